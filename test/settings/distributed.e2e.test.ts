/**
 * Settings of a distributed start (PostgreSQL, RabbitMQ, Redis), each given a non-default value and its effect
 * observed in the servers themselves (the map of every setting to its test is ./coverage.ts). One start of the
 * composition root (startPlatform, as main.ts calls it) running the three services on their own databases.
 */
import { randomBytes } from 'node:crypto';
import { CONSUMER_QUEUES } from '@commerce/contracts';
import { createLogger, loadSettings, partitionQueueOf, type ServiceName } from '@commerce/kernel';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../../apps/platform/src/platform.js';
import { FINAL_STATUSES, http, token } from '../support/platform.js';
import {
  createTestVhost,
  describeWith,
  freshDatabaseUrl,
  PG_ADMIN_URL,
  RABBIT_API,
  REDIS_URL,
  waitFor,
} from '../support/services.js';

/** A start on a busy machine (the whole suite on two cores) can take a while; the default hook timeout is 60 s. */
const START_TIMEOUT_MS = 180_000;

const SERVICES: ServiceName[] = ['order', 'inventory', 'payment'];
const PRODUCT = 'settings-widget';

/** The queues of a vhost, through the RabbitMQ management API. */
async function queuesOf(vhost: string): Promise<string[]> {
  const u = new URL(`${RABBIT_API}/queues/${encodeURIComponent(vhost)}`);
  const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  const res = await fetch(u, { headers: { authorization: `Basic ${auth}` } });
  return ((await res.json()) as { name: string }[]).map((q) => q.name);
}

describeWith(['postgres', 'rabbitmq', 'redis'], 'the three services, distributed, with non-default settings', () => {
  const secret = randomBytes(32).toString('hex');
  const dbs = Object.fromEntries(SERVICES.map((s) => [s, freshDatabaseUrl(`settings_${s}`)])) as Record<
    ServiceName,
    ReturnType<typeof freshDatabaseUrl>
  >;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let p: Platform;
  let admin: pg.Client;
  let redis: Redis;
  let bearer = '';
  let orderId = '';
  const url = (name: ServiceName) => p.services.find((s) => s.name === name)!.url;
  const db = (name: ServiceName) => p.services.find((s) => s.name === name)!.db;

  beforeAll(async () => {
    vhost = await createTestVhost('settings');
    const settings = loadSettings({
      ORDER_DATABASE_URL: dbs.order.url,
      INVENTORY_DATABASE_URL: dbs.inventory.url,
      PAYMENT_DATABASE_URL: dbs.payment.url,
      AMQP_URL: vhost.url,
      REDIS_URL,
      JWT_SECRET: secret,
      ORDER_PARTITIONS: '4',
      DB_POOL_SIZE: '2',
      DB_STATEMENT_TIMEOUT_MS: '500',
      DEDUP_TTL_SECONDS: '120',
      OUTBOX_DISPATCH: 'relay',
      QUEUE_TYPE: 'classic',
      ORDER_PORT: '0',
      INVENTORY_PORT: '0',
      PAYMENT_PORT: '0',
    });
    p = await startPlatform({ settings, services: SERVICES, log: createLogger({ level: 'silent' }) });
    bearer = await token(secret, 'settings-admin', 'admin');
    admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    redis = new Redis(REDIS_URL);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await p?.stop();
    await admin?.end();
    redis?.disconnect();
    await vhost?.drop();
    for (const s of SERVICES) await dbs[s].drop();
  });

  it('JWT_SECRET: tokens signed with it are accepted, tokens signed with another secret refused', async () => {
    const product = { name: 'settings widget', unitPrice: 500, currency: 'EUR', stock: 10 };
    expect((await http('PUT', `${url('inventory')}/products/${PRODUCT}`, bearer, product)).status).toBe(200);
    const other = await token(randomBytes(32).toString('hex'), 'settings-admin', 'admin');
    expect((await http('PUT', `${url('inventory')}/products/${PRODUCT}`, other, product)).status).toBe(401);
    const customer = { balance: 10_000, currency: 'EUR' };
    expect((await http('PUT', `${url('payment')}/customers/settings-customer`, bearer, customer)).status).toBe(200);
  });

  it("ORDER_/INVENTORY_/PAYMENT_DATABASE_URL: each service's database is created at start and holds its own data", async () => {
    const placed = await http('POST', `${url('order')}/orders`, bearer, {
      customerId: 'settings-customer',
      currency: 'EUR',
      items: [{ productId: PRODUCT, quantity: 1, unitPrice: 500 }],
    });
    expect(placed.status).toBe(202);
    orderId = placed.body.orderId;
    const final = await waitFor(
      async () => {
        const r = await http('GET', `${url('order')}/orders/${orderId}`, bearer);
        return FINAL_STATUSES.includes(r.body.status) ? r.body : undefined;
      },
      { timeoutMs: 50_000, what: 'the order to be final' },
    );
    expect(final.status).toBe('COMPLETED');
    const names = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [
      SERVICES.map((s) => dbs[s].name),
    ]);
    expect(names.rows).toHaveLength(3);
    const one = async (s: ServiceName, sql: string, params: unknown[] = []) =>
      (await db(s).query<{ n: string | number | null }>(sql, params)).rows[0]?.n;
    expect(Number(await one('order', 'SELECT count(*) AS n FROM orders WHERE order_id = $1', [orderId]))).toBe(1);
    expect(Number(await one('inventory', 'SELECT count(*) AS n FROM products WHERE product_id = $1', [PRODUCT]))).toBe(
      1,
    );
    expect(await one('order', "SELECT to_regclass('products')::text AS n")).toBeNull();
  });

  it('AMQP_URL: the services talk through RabbitMQ, in that vhost', async () => {
    const queues = await queuesOf(vhost.vhost);
    expect(queues).toEqual(expect.arrayContaining([CONSUMER_QUEUES.inventory, CONSUMER_QUEUES.payment]));
  });

  it("QUEUE_TYPE=classic: the consumers' queues, partitions included, are classic queues", async () => {
    const conn = await amqp.connect(vhost.url);
    try {
      for (const q of [CONSUMER_QUEUES.inventory, CONSUMER_QUEUES.payment]) {
        const ch = await conn.createChannel();
        // Re-declaring with the same type succeeds only if the broker holds that type.
        await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': 'classic' } });
        await ch.close();
      }
      const ch = await conn.createChannel();
      await ch.assertQueue(partitionQueueOf(CONSUMER_QUEUES.orderSaga, 0), {
        durable: true,
        arguments: { 'x-queue-type': 'classic', 'x-single-active-consumer': true },
      });
      await ch.close();
      const quorum = await conn.createChannel();
      quorum.on('error', () => {});
      await expect(
        quorum.assertQueue(CONSUMER_QUEUES.payment, { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
      ).rejects.toThrow(/x-queue-type/);
    } finally {
      await conn.close().catch(() => {});
    }
  });

  it('OUTBOX_DISPATCH=relay: nothing is published at commit; the relays, woken by NOTIFY, publish every row', async () => {
    for (const s of p.services) {
      expect(s.relay.dispatcher).toBeUndefined();
      expect(s.relay.notificationsReceived).toBeGreaterThan(0);
    }
    const unpublished = await db('order').query<{ n: string }>(
      'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
    );
    expect(Number(unpublished.rows[0]?.n)).toBe(0);
  });

  it('ORDER_PARTITIONS=4: four partition leases and four saga queues', async () => {
    const leases = await db('order').query<{ partition: number }>(
      'SELECT partition FROM partition_leases ORDER BY partition',
    );
    expect(leases.rows.map((r) => Number(r.partition))).toEqual([0, 1, 2, 3]);
    const queues = await queuesOf(vhost.vhost);
    for (let i = 0; i < 4; i++) expect(queues).toContain(partitionQueueOf(CONSUMER_QUEUES.orderSaga, i));
    expect(queues).not.toContain(partitionQueueOf(CONSUMER_QUEUES.orderSaga, 4));
  });

  it('REDIS_URL, DEDUP_TTL_SECONDS=120: a handled message is remembered in Redis for two minutes', async () => {
    const handled = await db('inventory').query<{ consumer: string; message_id: string }>(
      'SELECT consumer, message_id FROM inbox',
    );
    expect(handled.rows.length).toBeGreaterThan(0);
    for (const { consumer, message_id } of handled.rows) {
      const ttl = await redis.ttl(`commerce:dedup:${consumer}:${message_id}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(120);
    }
  });

  it('DB_POOL_SIZE=2: a service runs at most two statements at once', async () => {
    const started = Date.now();
    let most = 0;
    let done = false;
    const sleeps = Promise.all(Array.from({ length: 6 }, () => db('payment').query('SELECT pg_sleep(0.3)'))).finally(
      () => {
        done = true;
      },
    );
    while (!done) {
      const r = await admin.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query = 'SELECT pg_sleep(0.3)'",
        [dbs.payment.name],
      );
      most = Math.max(most, Number(r.rows[0]?.n));
      await new Promise((r) => setTimeout(r, 20));
    }
    await sleeps;
    expect(most).toBeGreaterThanOrEqual(1);
    expect(most).toBeLessThanOrEqual(2);
    // Six statements of 0.3 s, two at a time (the default pool, 8, runs them all at once).
    expect(Date.now() - started).toBeGreaterThanOrEqual(850);
  });

  it('DB_STATEMENT_TIMEOUT_MS=500: a longer statement is cancelled', async () => {
    expect((await db('order').query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]).toEqual({
      statement_timeout: '500ms',
    });
    await expect(db('order').query('SELECT pg_sleep(1.5)')).rejects.toThrow(/statement timeout/);
  });
});
