/**
 * Dispatch at commit across processes (issue 18): what a process committed but never published is published by a
 * relay of another process; and with publishes failing at random in two processes of one service, every message
 * arrives and every order ends as it would without failures (the inbox absorbs the second copies).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  createTestVhost,
  describeWith,
  uniqueName,
  waitFor,
} from '../../../test/support/services.js';
import type { Delivery } from './bus/port.js';
import { RabbitMqBus } from './bus/rabbitmq.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { commitChange } from './effect.js';
import { createLogger } from './log.js';
import { outboxStatus } from './outbox.js';
import { OutboxRelay } from './outboxRelay.js';
import { KERNEL_MIGRATIONS } from './schema.js';

const log = createLogger({ level: 'silent' });
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const childScript = fileURLToPath(new URL('../test-fixtures/dispatchChild.ts', import.meta.url));

describeWith(['postgres', 'rabbitmq'], 'dispatch at commit across processes', () => {
  let serviceTestDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let consumerTestDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let service: PgDatabase;
  let consumer: PgDatabase;
  let bus: RabbitMqBus;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    serviceTestDb = await createTestDatabase('dispatchsvc');
    consumerTestDb = await createTestDatabase('dispatchcon');
    vhost = await createTestVhost('dispatch');
    service = new PgDatabase({ url: serviceTestDb.url, log });
    consumer = new PgDatabase({ url: consumerTestDb.url, log });
    await migrate(service, 'kernel', KERNEL_MIGRATIONS);
    await migrate(consumer, 'kernel', KERNEL_MIGRATIONS);
    await consumer.exec(`CREATE TABLE arrivals (message_id uuid NOT NULL, order_id text NOT NULL, seq int NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp());
      CREATE TABLE balances (order_id text PRIMARY KEY, applied int NOT NULL, total int NOT NULL)`);
    bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'dispatch-consumer' });
    await bus.start();
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(async () => {
    await bus?.close();
    await service?.close();
    await consumer?.close();
    await serviceTestDb?.drop();
    await consumerTestDb?.drop();
    await vhost?.drop();
  });

  function spawnChild(env: Record<string, string>): ChildProcess {
    const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', childScript], {
      cwd: repoRoot,
      env: { ...process.env, DB_URL: serviceTestDb.url, AMQP_URL: vhost.url, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(proc);
    return proc;
  }
  const said = (proc: ChildProcess, key: string) =>
    new Promise<void>((resolve, reject) => {
      proc.on('message', (m: Record<string, unknown>) => {
        if (m[key]) resolve();
      });
      proc.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before saying ${key}`)));
    });

  /** Records every delivery, and applies each message once (inbox): the order's balance grows by its amount. */
  async function subscribe(queue: string) {
    const deliveries: Delivery[] = [];
    let duplicates = 0;
    const sub = await bus.subscribe({
      queue,
      bindings: [{ exchange: 'payment_events', routingKey: 'payment.approved' }],
      handler: async (d) => {
        const { orderId, eventId } = d.envelope;
        const amount = (d.envelope.data as { amount: number }).amount;
        await consumer.query('INSERT INTO arrivals (message_id, order_id, seq) VALUES ($1, $2, $3)', [
          eventId,
          orderId,
          amount,
        ]);
        const out = await commitChange(consumer, {
          inbox: { consumer: queue, messageId: eventId },
          decide: () => ({
            result: undefined,
            effect: {
              writes: [
                {
                  sql: `INSERT INTO balances (order_id, applied, total) VALUES ($1, 1, $2)
                        ON CONFLICT (order_id) DO UPDATE SET applied = balances.applied + 1, total = balances.total + $2`,
                  params: [orderId, amount],
                },
              ],
            },
          }),
        });
        if (out.kind === 'duplicate') duplicates++;
        deliveries.push(d);
      },
    });
    return { sub, deliveries, duplicates: () => duplicates };
  }

  it('a process SIGKILLed after commit and before publish: a surviving relay publishes its rows within the grace period + 1 s', async () => {
    const graceMs = 2000;
    const { sub, deliveries } = await subscribe(uniqueName('killed'));
    // The surviving process of the same service: its relay is the safety net.
    const survivor = new OutboxRelay({ db: service, bus, log, dispatchAtCommit: true, graceMs });
    await survivor.start();
    try {
      const orders = Array.from({ length: 5 }, () => randomUUID());
      const victim = spawnChild({ MODE: 'kill', ORDERS: JSON.stringify(orders), PER_ORDER: '3', GRACE_MS: '2000' });
      const died = new Promise<NodeJS.Signals | null>((resolve) =>
        victim.once('exit', (_c, signal) => resolve(signal)),
      );
      expect(await died).toBe('SIGKILL');
      const published = await service.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NOT NULL',
      );
      expect(published.rows[0]?.n).toBe(0);
      // Commits the child had sent before it died may land a moment later: compare with the rows as they end up.
      const rows = () =>
        service.query<{ message_id: string; created_at: Date }>('SELECT message_id, created_at FROM outbox');
      const committed = await waitFor(
        async () => {
          const r = await rows();
          return r.rows.length > 0 && deliveries.length === r.rows.length ? r : undefined;
        },
        { timeoutMs: graceMs + 5000, what: 'the survivor to publish every committed row' },
      );
      const arrivals = await consumer.query<{ message_id: string; at: Date }>('SELECT message_id, at FROM arrivals');
      const arrivedAt = new Map(arrivals.rows.map((r) => [r.message_id, new Date(r.at).getTime()]));
      for (const row of committed.rows) {
        const waited = (arrivedAt.get(row.message_id) ?? Number.POSITIVE_INFINITY) - new Date(row.created_at).getTime();
        expect(waited).toBeLessThanOrEqual(graceMs + 1000);
      }
      expect(new Set(deliveries.map((d) => d.envelope.eventId))).toEqual(
        new Set(committed.rows.map((r) => r.message_id)),
      );
      await waitFor(async () => (await outboxStatus(service)).unpublished === 0, { what: 'every row marked' });
    } finally {
      await survivor.stop();
      await sub.close();
    }
  }, 30_000);

  it('1,000 messages of 50 orders from two processes with publishes failing at random: all arrive, every order ends as without failures', async () => {
    await service.query('DELETE FROM outbox');
    await consumer.query('DELETE FROM arrivals');
    await consumer.query('DELETE FROM balances');
    const queue = uniqueName('flaky');
    const { sub, deliveries, duplicates } = await subscribe(queue);
    try {
      const orders = Array.from({ length: 50 }, () => randomUUID());
      const perOrder = 20;
      const common = { PER_ORDER: String(perOrder), GRACE_MS: '500', FAIL_RATE: '0.2', MODE: 'writer' };
      const a = spawnChild({ ...common, ORDERS: JSON.stringify(orders.slice(0, 25)) });
      const b = spawnChild({ ...common, ORDERS: JSON.stringify(orders.slice(25)) });
      await Promise.all([said(a, 'done'), said(b, 'done')]);
      await waitFor(
        async () => {
          const r = await consumer.query<{ n: number }>('SELECT coalesce(sum(applied), 0)::int AS n FROM balances');
          return r.rows[0]?.n === 1000;
        },
        { timeoutMs: 60_000, what: '1,000 messages applied' },
      );
      await waitFor(async () => (await outboxStatus(service)).unpublished === 0, {
        timeoutMs: 20_000,
        what: 'every row published and marked',
      });
      // The outcome without failures: each order applied its 20 messages once, amounts 1..20.
      const balances = await consumer.query<{ order_id: string; applied: number; total: number }>(
        'SELECT order_id, applied, total FROM balances ORDER BY order_id',
      );
      expect(balances.rows).toEqual(
        [...orders]
          .sort()
          .map((orderId) => ({ order_id: orderId, applied: perOrder, total: (perOrder * (perOrder + 1)) / 2 })),
      );
      const ids = deliveries.map((d) => d.envelope.eventId);
      expect(new Set(ids).size).toBe(1000);
      // Failures happened: lost confirms sent messages twice (the inbox absorbed them), refusals made later
      // messages of an order overtake earlier ones.
      let overtaken = 0;
      const last = new Map<string, number>();
      for (const d of deliveries) {
        const seq = (d.envelope.data as { amount: number }).amount;
        if (seq < (last.get(d.envelope.orderId) ?? 0)) overtaken++;
        last.set(d.envelope.orderId, Math.max(seq, last.get(d.envelope.orderId) ?? 0));
      }
      console.log(
        `[dispatch] deliveries ${deliveries.length} for 1000 messages; duplicates absorbed by the inbox ${duplicates()}; deliveries that overtook an earlier message of their order ${overtaken}`,
      );
      expect(duplicates()).toBeGreaterThan(0);
      expect(deliveries.length).toBe(1000 + duplicates());
      expect(overtaken).toBeGreaterThan(0);
    } finally {
      await sub.close();
    }
  }, 120_000);
});
