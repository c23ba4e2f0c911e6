/**
 * Settings that change what the embedded platform does, each started with a non-default value and its effect observed
 * (the map of every setting to its test is ./coverage.ts). Two starts of the composition root (startPlatform, as
 * main.ts calls it) on one DATA_DIR: the three services, then the order service alone on the same data.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createLogger, loadSettings, type ServiceName } from '@commerce/kernel';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../../apps/platform/src/platform.js';
import { FINAL_STATUSES, http, tempDataDir } from '../support/platform.js';
import { waitFor } from '../support/services.js';

/** A start on a busy machine (the whole suite on two cores) can take a while; the default hook timeout is 60 s. */
const START_TIMEOUT_MS = 180_000;

const data = tempDataDir();

async function start(services: ServiceName[], env: Record<string, string>): Promise<Platform> {
  const settings = loadSettings(
    { ORDER_PORT: '0', INVENTORY_PORT: '0', PAYMENT_PORT: '0', LOG_LEVEL: 'silent', DATA_DIR: data.dir, ...env },
    services,
  );
  return startPlatform({ settings, services, log: createLogger({ level: settings.logLevel, name: 'settings' }) });
}

const urlOf = (p: Platform, name: ServiceName) => p.services.find((s) => s.name === name)!.url;
const dbOf = (p: Platform, name: ServiceName) => p.services.find((s) => s.name === name)!.db;

/** A server answering JSON and remembering the paths asked for: a key server, or the peers of the console proxy. */
async function jsonServer(
  answer: (path: string) => unknown,
): Promise<{ url: string; paths: string[]; server: Server }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer(req.url ?? '')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths, server };
}

const PRODUCT = 'settings-widget';
const CUSTOMER = 'settings-customer';
const ORDER = { customerId: CUSTOMER, currency: 'EUR', items: [{ productId: PRODUCT, quantity: 1, unitPrice: 500 }] };

// What the first start leaves for the second one.
let placedOrderId = '';
let lastPublishedAt = 0;

afterAll(() => data.remove());

describe('the three services, embedded, with non-default settings', () => {
  let p: Platform;
  let keys: Awaited<ReturnType<typeof jsonServer>>;
  let admin = '';
  let order = '';
  let inventory = '';

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'settings-1', alg: 'RS256', use: 'sig' };
    keys = await jsonServer(() => ({ keys: [jwk] }));
    admin = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'RS256', kid: 'settings-1' })
      .setSubject('settings-admin')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(pair.privateKey);
    p = await start(['order', 'inventory', 'payment'], {
      JWT_JWKS_URL: `${keys.url}/.well-known/jwks.json`,
      RESERVATION_TTL_MS: '1000',
      MAX_DELIVERY_ATTEMPTS: '2',
      INBOX_RETENTION_MS: '3600000',
      IDEMPOTENCY_KEY_RETENTION_MS: '3600000',
      SUBSCRIPTION_LEASE_MS: '3000',
    });
    [order, inventory] = [urlOf(p, 'order'), urlOf(p, 'inventory')];
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await p?.stop();
    keys?.server.close();
  });

  it('JWT_JWKS_URL: bearer tokens are verified with the key set served there', async () => {
    const put = await http('PUT', `${inventory}/products/${PRODUCT}`, admin, {
      name: 'settings widget',
      unitPrice: 500,
      currency: 'EUR',
      stock: 10,
    });
    expect(put.status).toBe(200);
    expect(keys.paths).toContain('/.well-known/jwks.json');
    const hs256 = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('settings-admin')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect((await http('GET', `${inventory}/products/${PRODUCT}`, hs256)).status).toBe(401);
    expect((await http('GET', `${inventory}/products/${PRODUCT}`, undefined)).status).toBe(401);
    const customer = await http('PUT', `${urlOf(p, 'payment')}/customers/${CUSTOMER}`, admin, {
      balance: 100_000,
      currency: 'EUR',
    });
    expect(customer.status).toBe(200);
  });

  it('places an order with an Idempotency-Key and runs its saga to a final status', async () => {
    const r = await http('POST', `${order}/orders`, admin, ORDER, { 'idempotency-key': 'settings-key-1' });
    expect(r.status).toBe(202);
    placedOrderId = r.body.orderId;
    await waitFor(
      async () => FINAL_STATUSES.includes((await http('GET', `${order}/orders/${placedOrderId}`, admin)).body.status),
      { timeoutMs: 50_000, what: 'the order to be final' },
    );
  });

  it('SUBSCRIPTION_LEASE_MS=3000: the projections hold 3-second leases, and the order summary follows the orders', async () => {
    const leases = await dbOf(p, 'order').query<{ name: string; left_ms: number }>(
      `SELECT name, extract(epoch FROM lease_expires_at - now()) * 1000 AS left_ms FROM subscription_checkpoints
        WHERE owner IS NOT NULL ORDER BY name`,
    );
    // The webhooks fan-out (docs/webhooks.md) is a subscription too, under the same lease setting.
    expect(leases.rows.map((r) => r.name)).toEqual(['analytics', 'customer_history', 'webhooks']);
    // Renewed every lease / 3: never more than the 3 s ahead (the default, 10 s, would be at least 6.6 s ahead).
    for (const r of leases.rows) expect(Number(r.left_ms)).toBeLessThanOrEqual(3100);
    const summary = await waitFor(async () => {
      const r = await http('GET', `${order}/customers/${CUSTOMER}/order-summary`, admin);
      return r.body.lastOrder?.orderId === placedOrderId && r.body.lastOrder.status !== 'PENDING' ? r.body : undefined;
    });
    expect(summary.orders.total).toBeGreaterThanOrEqual(1);
  });

  it('RESERVATION_TTL_MS=1000: a reservation that nobody confirms is released after a second', async () => {
    const before = (await http('GET', `${inventory}/products/${PRODUCT}`, admin)).body.available as number;
    // An ORDER_CREATED that no order stream stands behind: inventory reserves, nothing ever confirms it.
    const orderId = randomUUID();
    await p.bus.publish([
      {
        exchange: 'order_events',
        routingKey: 'order.created',
        envelope: {
          eventId: randomUUID(),
          eventType: 'ORDER_CREATED',
          schemaVersion: 1,
          occurredAt: new Date().toISOString(),
          orderId,
          causationId: null,
          source: 'settings-test',
          data: { customerId: 'nobody', currency: 'EUR', items: ORDER.items, totalAmount: 500 },
        },
      },
    ]);
    const reserved = await http('GET', `${inventory}/admin/reservations/${orderId}`, admin);
    expect(reserved.body.status).toBe('RESERVED');
    expect(Date.parse(reserved.body.expiresAt) - Date.parse(reserved.body.createdAt)).toBeLessThan(1100);
    expect((await http('GET', `${inventory}/products/${PRODUCT}`, admin)).body.available).toBe(before - 1);
    const expired = await waitFor(
      async () => {
        const r = await http('GET', `${inventory}/admin/reservations/${orderId}`, admin);
        return r.body.status === 'EXPIRED' ? r.body : undefined;
      },
      { timeoutMs: 30_000, what: 'the reservation to expire (the default TTL is 15 min)' },
    );
    expect(Date.parse(expired.updatedAt) - Date.parse(expired.createdAt)).toBeGreaterThanOrEqual(1000);
    expect((await http('GET', `${inventory}/products/${PRODUCT}`, admin)).body.available).toBe(before);
  });

  it('MAX_DELIVERY_ATTEMPTS=2: a message its handler keeps failing on is dead-lettered after two attempts', async () => {
    // The saga is handed the answers to that ORDER_CREATED, for an order it does not know: every attempt fails.
    const letters = await waitFor(
      async () => {
        const r = await http('GET', `${order}/admin/dead-letters/order.saga`, admin);
        return r.body.items.length > 0 ? (r.body.items as { attempts: number; reason: string }[]) : undefined;
      },
      { timeoutMs: 50_000, what: 'a dead letter in order.saga' },
    );
    expect(letters.map((l) => l.attempts)).toEqual(letters.map(() => 2));
  });

  it('INBOX_RETENTION_MS=1 h: inbox rows older than an hour are deleted, younger ones kept', async () => {
    const svc = p.services.find((s) => s.name === 'inventory')!;
    const [old, young] = [randomUUID(), randomUUID()];
    await svc.db.query(
      `INSERT INTO inbox (consumer, message_id, handled_at) VALUES
         ('settings-test', $1, now() - interval '2 hours'), ('settings-test', $2, now() - interval '30 minutes')`,
      [old, young],
    );
    // One run of the retention job now, instead of waiting for its timer (every minute).
    await svc.inboxRetention.sweep();
    const left = await svc.db.query<{ message_id: string }>(
      "SELECT message_id FROM inbox WHERE consumer = 'settings-test'",
    );
    expect(left.rows.map((r) => r.message_id)).toEqual([young]);
  });

  it('IDEMPOTENCY_KEY_RETENTION_MS=1 h: a key older than an hour is pruned, and the same key places a new order', async () => {
    const svc = p.services.find((s) => s.name === 'order')!;
    const again = await http('POST', `${order}/orders`, admin, ORDER, { 'idempotency-key': 'settings-key-1' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.orderId).toBe(placedOrderId);
    await svc.db.query(
      "UPDATE idempotency_keys SET created_at = now() - interval '2 hours' WHERE idempotency_key = 'settings-key-1'",
    );
    await svc.idempotencyKeyRetention.sweep();
    const fresh = await http('POST', `${order}/orders`, admin, ORDER, { 'idempotency-key': 'settings-key-1' });
    expect(fresh.status).toBe(202);
    expect(fresh.headers.get('idempotent-replayed')).toBeNull();
    expect(fresh.body.orderId).not.toBe(placedOrderId);
    await waitFor(
      async () =>
        FINAL_STATUSES.includes((await http('GET', `${order}/orders/${fresh.body.orderId}`, admin)).body.status),
      { timeoutMs: 50_000, what: 'the second order to be final' },
    );
  });

  it('leaves published outbox rows behind (kept 24 h by default) and asks for a token', async () => {
    const published = await dbOf(p, 'order').query<{ n: string; last: Date | string | null }>(
      'SELECT count(*) AS n, max(published_at) AS last FROM outbox WHERE published_at IS NOT NULL',
    );
    expect(Number(published.rows[0]?.n)).toBeGreaterThan(0);
    lastPublishedAt = new Date(published.rows[0]!.last!).getTime();
    expect((await http('GET', `${order}/orders/${placedOrderId}`, undefined)).status).toBe(401);
  });
});

describe('the order service alone, restarted on the same DATA_DIR, with non-default settings', () => {
  let p: Platform;
  let peers: Awaited<ReturnType<typeof jsonServer>>;
  let order = '';

  beforeAll(async () => {
    peers = await jsonServer((path) => ({ answeredBy: 'fake peer', path }));
    // OUTBOX_RETENTION_MS=1000 below: the first start's rows must be older than that when the relay first sweeps.
    await waitFor(() => Date.now() > lastPublishedAt + 1100, { what: 'the outbox rows to be a second old' });
    p = await start(['order'], {
      AUTH_DISABLED: 'true',
      OUTBOX_RETENTION_MS: '1000',
      OUTBOX_RELAY_GRACE_MS: '1500',
      SAGA_TIMEOUT_MS: '3000',
      COMPENSATION_TIMEOUT_MS: '200',
      INVENTORY_URL: `${peers.url}/inventory`,
      PAYMENT_URL: `${peers.url}/payment`,
    });
    order = urlOf(p, 'order');
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await p?.stop();
    peers?.server.close();
  });

  it('DATA_DIR: one PGlite database per service lives there, and the restart finds the order placed before', async () => {
    for (const name of ['order', 'inventory', 'payment']) expect(existsSync(join(data.dir, name))).toBe(true);
    const r = await http('GET', `${order}/orders/${placedOrderId}`, undefined);
    expect(r.status).toBe(200);
    expect(FINAL_STATUSES).toContain(r.body.status);
  });

  it('AUTH_DISABLED=true: every caller is an admin, no token needed', async () => {
    expect((await http('GET', `${order}/admin/dead-letters`, undefined)).status).toBe(200);
  });

  it('OUTBOX_RETENTION_MS=1000: the published rows of the first start are deleted', async () => {
    await waitFor(
      async () => {
        const r = await dbOf(p, 'order').query<{ n: string }>(
          'SELECT count(*) AS n FROM outbox WHERE published_at <= $1',
          [new Date(lastPublishedAt)],
        );
        return Number(r.rows[0]?.n) === 0;
      },
      { timeoutMs: 30_000, what: 'the published outbox rows to be deleted' },
    );
  });

  it('OUTBOX_RELAY_GRACE_MS=1500: a row its process never dispatched is published by the relay 1.5 s after its commit', async () => {
    // A row committed by a process that died before publishing it: only the relay can send it.
    const eventId = randomUUID();
    const envelope = {
      eventId,
      eventType: 'ORDER_SETTINGS_PROBE',
      orderId: randomUUID(),
      occurredAt: new Date().toISOString(),
      data: {},
    };
    await dbOf(p, 'order').query(
      `INSERT INTO outbox (message_id, exchange, routing_key, partition_key, envelope)
       VALUES ($1, 'order_events', 'order.settings.probe', $2, $3::jsonb)`,
      [eventId, envelope.orderId, JSON.stringify(envelope)],
    );
    const row = await waitFor(
      async () => {
        const r = await dbOf(p, 'order').query<{ waited: number }>(
          `SELECT extract(epoch FROM published_at - created_at) * 1000 AS waited
             FROM outbox WHERE message_id = $1 AND published_at IS NOT NULL`,
          [eventId],
        );
        return r.rows[0];
      },
      { timeoutMs: 10_000, what: 'the relay to publish the row' },
    );
    expect(Number(row.waited)).toBeGreaterThanOrEqual(1490);
    expect(Number(row.waited)).toBeLessThan(1500 + 1000 + 500);
  });

  it('SAGA_TIMEOUT_MS=3000 cancels an order nobody answers; COMPENSATION_TIMEOUT_MS=200 then fails its compensation', async () => {
    const placed = await http('POST', `${order}/orders`, undefined, ORDER);
    expect(placed.status).toBe(202);
    const id = placed.body.orderId as string;
    const final = await waitFor(
      async () => {
        const r = await http('GET', `${order}/orders/${id}`, undefined);
        return FINAL_STATUSES.includes(r.body.status) ? r.body : undefined;
      },
      { timeoutMs: 20_000, what: 'the order to be final' },
    );
    expect(final.status).toBe('COMPENSATION_FAILED');
    const events = (await http('GET', `${order}/orders/${id}/events`, undefined)).body as {
      type: string;
      occurredAt: string;
      data: { reasons?: string[] };
    }[];
    const at = (type: string) => Date.parse(events.find((e) => e.type === type)!.occurredAt);
    const cancelled = events.find((e) => e.type === 'ORDER_CANCELLED')!;
    expect(cancelled.data.reasons?.some((r) => r.startsWith('SAGA_TIMEOUT'))).toBe(true);
    // The saga deadline: 3 s (default 30 s), found by a poller that looks every 300 ms.
    const sagaMs = at('ORDER_CANCELLED') - at('ORDER_CREATED');
    expect(sagaMs).toBeGreaterThanOrEqual(3000);
    expect(sagaMs).toBeLessThan(15_000);
    // The compensation deadline: 200 ms, where its default would be 3 × 3 s.
    const compensationMs = at('ORDER_COMPENSATION_FAILED') - at('ORDER_COMPENSATION_STARTED');
    expect(compensationMs).toBeGreaterThanOrEqual(200);
    expect(compensationMs).toBeLessThan(6000);
    expect(events.at(-1)?.data.reasons).toEqual([
      'COMPENSATION_TIMEOUT: inventory release not acknowledged',
      'COMPENSATION_TIMEOUT: payment refund not acknowledged',
    ]);
  });

  it('INVENTORY_URL and PAYMENT_URL: the console proxy reaches the services of other processes there', async () => {
    const config = await http('GET', `${order}/admin/console-config`, undefined);
    expect(config.body).toMatchObject({ inventoryUrl: `${peers.url}/inventory`, paymentUrl: `${peers.url}/payment` });
    const products = await http('GET', `${order}/admin/proxy/inventory/products`, undefined);
    expect(products.body).toEqual({ answeredBy: 'fake peer', path: '/inventory/products' });
    const customers = await http('GET', `${order}/admin/proxy/payment/admin/customers`, undefined);
    expect(customers.body).toEqual({ answeredBy: 'fake peer', path: '/payment/admin/customers' });
  });
});
