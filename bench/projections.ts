/**
 * `npm run bench:projections [-- --orders 20000 --rate 100 --seconds 30]`: the projections on subscriptions, on a
 * fresh PostgreSQL database (PostgreSQL at 127.0.0.1:5432, as the tests use it).
 *
 * 1. Lag: orders' events appended at --rate orders/s (two transactions per order, as the saga writes them) while the
 *    live projections run; for every event, the time from its transaction's commit to the commit of the checkpoint
 *    that covers it (p50/p99/max, per projection).
 * 2. Rebuild: --orders orders in the store, `analytics` rebuilt while orders keep arriving at --rate and two HTTP
 *    clients read GET /customers/{id}/order-summary and GET /admin/analytics; the rebuild's progress lines, the
 *    answers by status (no 5xx expected), and after the swap the tables compared with a fresh fold of the whole log.
 * Writes bench/results/projections.json. Like `npm run bench`, it measures the machine: run it on a quiet one.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  appendToStream,
  createAuthVerifier,
  createHttpServer,
  createLogger,
  type Database,
  InProcessBus,
  loadSettings,
  MemoryDedupCache,
  openDatabase,
  type Projection,
  projectionSubscription,
  readAll,
  rebuildProjection,
  type ServiceContext,
  type StoredEvent,
  signToken,
  subscriptionStatus,
} from '@commerce/kernel';
import {
  analyticsProjection,
  analyticsReport,
  foldAnalytics,
  ORDER_PROJECTIONS,
  orderMigrations,
  orderService,
} from '@commerce/order';
import { createTestDatabase } from '../test/support/services.js';
import { type LatencySummary, sleep, summarize } from './lib/stats.js';

const { values } = parseArgs({
  options: { orders: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' } },
  strict: true,
});
const ORDERS = Number(values.orders ?? 20_000);
const RATE = Number(values.rate ?? 100);
const SECONDS = Number(values.seconds ?? 30);
const log = createLogger({ level: 'warn' });
const out = (s: string) => process.stdout.write(`${s}\n`);
const items = [{ productId: 'bench-1', quantity: 2, unitPrice: 1250 }];

/** One order's two transactions; records the commit time of each event in `committed`. */
async function oneOrder(db: Database, customer: string, committed?: Map<string, number>): Promise<void> {
  const stream = `order-${randomUUID()}`;
  const ev = (eventType: string, data: unknown) => ({
    eventId: randomUUID(),
    eventType,
    data,
    occurredAt: new Date(),
    metadata: { schemaVersion: eventType === 'ORDER_CREATED' ? 2 : 1 },
  });
  const first = [ev('ORDER_CREATED', { customerId: customer, currency: 'EUR', items, totalAmount: 2500 })];
  await db.transaction((tx) => appendToStream(tx, stream, 0, first));
  const at = Date.now();
  for (const e of first) committed?.set(e.eventId, at);
  const second = [
    ev('INVENTORY_RESERVED', { items }),
    ev('PAYMENT_APPROVED', { amount: 2500, currency: 'EUR' }),
    ev('ORDER_CONFIRMED', {}),
    ev('INVENTORY_COMMITTED', {}),
    ev('ORDER_COMPLETED', {}),
  ];
  await db.transaction((tx) => appendToStream(tx, stream, 1, second));
  const at2 = Date.now();
  for (const e of second) committed?.set(e.eventId, at2);
}

/** Orders at `rate` per second until stop() (each started on its tick, not after the previous one). */
function paced(db: Database, rate: number, committed?: Map<string, number>) {
  let stopped = false;
  let n = 0;
  const running = new Set<Promise<void>>();
  const loop = (async () => {
    const start = Date.now();
    while (!stopped) {
      const due = start + (n * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
      const p = oneOrder(db, `cust-${n % 50}`, committed).finally(() => running.delete(p));
      running.add(p);
      n++;
    }
  })();
  return {
    async stop(): Promise<number> {
      stopped = true;
      await loop;
      await Promise.all(running);
      return n;
    },
  };
}

async function lagRun(db: Database): Promise<Record<string, LatencySummary>> {
  const committed = new Map<string, number>();
  const samples = new Map<string, number[]>();
  const subs = ORDER_PROJECTIONS.filter((p) => !p.inline).map((p) => {
    const lags: number[] = [];
    samples.set(p.name, lags);
    let batch: StoredEvent[] = [];
    const measured: Projection = {
      ...p,
      subscription: {
        ...p.subscription,
        async handle(events, tx) {
          batch = [...events];
          await p.subscription.handle(events, tx);
        },
      },
    };
    return projectionSubscription(measured, {
      db,
      instanceId: 'bench',
      log,
      onBatch: () => {
        const now = Date.now();
        for (const e of batch) {
          const at = committed.get(e.eventId);
          if (at !== undefined) lags.push(now - at);
        }
      },
    });
  });
  for (const s of subs) await s.start();
  const writer = paced(db, RATE, committed);
  await sleep(SECONDS * 1000);
  const n = await writer.stop();
  while ((await subscriptionStatus(db)).some((s) => s.lagEvents > 0)) await sleep(50);
  for (const s of subs) await s.stop();
  out(`lag run: ${n} orders at ${RATE}/s for ${SECONDS} s`);
  return Object.fromEntries([...samples].map(([name, l]) => [name, summarize(l)]));
}

async function rebuildRun(db: Database) {
  out(`filling ${ORDERS} orders…`);
  for (let i = 0; i < ORDERS; i += 50)
    await Promise.all(Array.from({ length: Math.min(50, ORDERS - i) }, (_, k) => oneOrder(db, `cust-${(i + k) % 50}`)));
  const live = ORDER_PROJECTIONS.filter((p) => !p.inline).map((p) =>
    projectionSubscription(p, { db, instanceId: 'live', log }),
  );
  for (const s of live) await s.start();
  while ((await subscriptionStatus(db)).some((s) => s.lagEvents > 0)) await sleep(200);

  const secret = 'bench-projections-secret-0123456789abcdef';
  const ctx: ServiceContext = {
    name: 'order',
    settings: loadSettings({}),
    log,
    db,
    bus: new InProcessBus({ log }),
    dedup: new MemoryDedupCache(),
    instanceId: 'bench',
    partitionOwnership: () => {
      throw new Error('not used');
    },
    now: () => new Date(),
    newId: () => randomUUID(),
  };
  const app = await createHttpServer({
    service: 'order',
    title: 'order',
    version: 'bench',
    log,
    auth: createAuthVerifier({ secret }),
    rateLimit: null,
    readiness: { database: () => db.ping() },
  });
  await orderService.routes(app, ctx);
  await app.ready();
  const admin = await signToken({ secret, sub: 'ops', role: 'admin' });
  const answers: Record<string, number> = {};
  let reading = true;
  const reader = (url: string) =>
    (async () => {
      while (reading) {
        const r = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${admin}` } });
        answers[r.statusCode] = (answers[r.statusCode] ?? 0) + 1;
        await sleep(20);
      }
    })();
  const readers = [reader('/customers/cust-1/order-summary'), reader('/admin/analytics?period=day')];
  const writer = paced(db, RATE);
  const started = Date.now();
  const progress = await rebuildProjection(db, analyticsProjection, {
    log,
    onProgress: (p) => out(JSON.stringify(p)),
  });
  const rebuildSeconds = (Date.now() - started) / 1000;
  const arrived = await writer.stop();
  while ((await subscriptionStatus(db)).some((s) => s.lagEvents > 0)) await sleep(100);
  reading = false;
  await Promise.all(readers);
  for (const s of live) await s.stop();
  await app.close();

  const all: StoredEvent[] = [];
  for (let page = await readAll(db, undefined, 5000); page.length > 0; page = await readAll(db, page.at(-1), 5000))
    all.push(...page);
  const fold = foldAnalytics(all, new Map());
  const report = await analyticsReport(db, { period: 'day', since: new Date(0), topProducts: 100 });
  const expectedOutcomes = Object.fromEntries(fold.outcomes.map((o) => [o.status, o.delta]));
  const expectedSales = fold.sales
    .filter((s) => s.period === 'day')
    .map(({ period: _, ...s }) => s)
    .sort((a, b) => `${a.bucket}${a.currency}`.localeCompare(`${b.bucket}${b.currency}`));
  const actualSales = report.sales.map(({ period: _, ...s }) => s);
  const equal =
    JSON.stringify(expectedOutcomes) === JSON.stringify(report.outcomes) &&
    JSON.stringify(expectedSales) === JSON.stringify(actualSales);
  return { orders: ORDERS, arrivedDuring: arrived, rebuildSeconds, progress, answers, equalToFreshFold: equal };
}

const target = await createTestDatabase('benchproj');
const db = await openDatabase({ url: target.url, name: 'order', migrations: orderMigrations, log, poolSize: 10 });
try {
  const lag = await lagRun(db);
  for (const [name, s] of Object.entries(lag))
    out(`${name}: commit → checkpoint p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms (${s.count} events)`);
  const rebuild = await rebuildRun(db);
  out(`rebuild: ${JSON.stringify(rebuild)}`);
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  const file = join(import.meta.dirname, 'results', 'projections.json');
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), rate: RATE, seconds: SECONDS, lag, rebuild }, null, 2)}\n`,
  );
  out(`written ${file}`);
} finally {
  await db.close();
  await target.drop();
}
