/**
 * The platform under test: real child processes (test/support/platform.ts startDistributed), each service with a
 * fresh PostgreSQL database, one fresh RabbitMQ vhost, Redis, RATE_LIMIT=off, LOG_LEVEL=warn.
 */
import amqp from 'amqplib';
import {
  type DistributedOptions,
  type DistributedPlatform,
  FINAL_STATUSES,
  http,
  startDistributed as startPlatform,
} from '../../test/support/platform.js';
import { BALANCE, CURRENCY, CUSTOMERS, customerId, PRODUCTS, priceOf, productId, STOCK } from './workload.js';

export type { Service } from '../../test/support/platform.js';
export type Platform = DistributedPlatform;
export type PlatformOptions = Pick<DistributedOptions, 'services' | 'envFor' | 'nodeArgsFor'>;

/** The services one at a time, in the order given; stop() stops them (SIGTERM) and drops what they used. */
export async function startDistributed(o: PlatformOptions): Promise<Platform> {
  const p = await startPlatform({
    ...o,
    prefix: 'bench',
    databasePrefixes: { order: 'bench_order', inventory: 'bench_inv', payment: 'bench_pay' },
    env: { RATE_LIMIT: 'off', LOG_LEVEL: 'warn' },
    admin: { sub: 'bench-admin', ttlSeconds: 86_400 },
  });
  return { ...p, stop: () => p.stop({ ignoreDropErrors: true }) };
}

/** Products and customer accounts of the workload, through the services' own admin API. */
export async function seed(urls: Record<string, string>, admin: string): Promise<void> {
  const jobs: (() => Promise<void>)[] = [];
  const check = (what: string, r: { status: number; body: unknown }) => {
    if (r.status !== 200) throw new Error(`seeding ${what}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  if (urls.inventory)
    for (let i = 0; i < PRODUCTS; i++)
      jobs.push(async () =>
        check(
          productId(i),
          await http('PUT', `${urls.inventory}/products/${productId(i)}`, admin, {
            name: `bench product ${i}`,
            unitPrice: priceOf(i),
            currency: CURRENCY,
            stock: STOCK,
          }),
        ),
      );
  if (urls.payment)
    for (let i = 0; i < CUSTOMERS; i++)
      jobs.push(async () =>
        check(
          customerId(i),
          await http('PUT', `${urls.payment}/customers/${customerId(i)}`, admin, {
            balance: BALANCE,
            currency: CURRENCY,
          }),
        ),
      );
  const workers = Array.from({ length: 16 }, async () => {
    for (let job = jobs.shift(); job; job = jobs.shift()) await job();
  });
  await Promise.all(workers);
}

const FINAL_KEYS = ['order.completed', 'order.cancelled', 'order.compensated', 'order.compensation.failed'];

/**
 * Watches final statuses without loading the order service: an exclusive queue bound to the final order events.
 * The order's read model and its outbox row commit in one transaction, so the final status is readable through
 * GET /orders/{id} before (never after) this observer sees the event: the latency measured here is an upper bound.
 * ORDER_CANCELLED counts as final only when nothing is left to undo.
 */
export async function watchFinals(amqpUrl: string): Promise<{ finals: Map<string, number>; close(): Promise<void> }> {
  const conn = await amqp.connect(amqpUrl);
  const ch = await conn.createChannel();
  await ch.assertExchange('order_events', 'topic', { durable: true });
  const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  for (const key of FINAL_KEYS) await ch.bindQueue(q.queue, 'order_events', key);
  const finals = new Map<string, number>();
  await ch.consume(
    q.queue,
    (msg) => {
      if (!msg) return;
      const t = performance.timeOrigin + performance.now();
      try {
        const e = JSON.parse(msg.content.toString()) as {
          orderId: string;
          eventType: string;
          data: { requiresRefund?: boolean; requiresInventoryRollback?: boolean };
        };
        const finalCancel = !e.data?.requiresRefund && !e.data?.requiresInventoryRollback;
        if (e.eventType !== 'ORDER_CANCELLED' || finalCancel) if (!finals.has(e.orderId)) finals.set(e.orderId, t);
      } catch {}
    },
    { noAck: true },
  );
  return {
    finals,
    async close() {
      await ch.close().catch(() => {});
      await conn.close().catch(() => {});
    },
  };
}

/**
 * For the embedded default (no broker to listen to): one GET /orders (newest 100, admin) per interval, which
 * sees every order of a short run; resolution = the interval plus one request.
 */
export function pollFinals(orderUrl: string, admin: string, intervalMs = 20) {
  const finals = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const r = await http('GET', `${orderUrl}/orders?limit=100`, admin).catch(() => undefined);
      const t = performance.timeOrigin + performance.now();
      for (const o of (r?.body?.items ?? []) as { orderId: string; status: string }[])
        if (FINAL_STATUSES.includes(o.status) && !finals.has(o.orderId)) finals.set(o.orderId, t);
      await new Promise((res) => setTimeout(res, intervalMs));
    }
  })();
  return {
    finals,
    async close() {
      stopped = true;
      await loop;
    },
  };
}
