import { randomUUID } from 'node:crypto';
import {
  appendToStream,
  createAuthVerifier,
  createHttpServer,
  createLogger,
  type Database,
  type EventSubscription,
  InProcessBus,
  listParkedEvents,
  loadSettings,
  MemoryDedupCache,
  openDatabase,
  partitionOwnershipFor,
  projectionSubscription,
  type RebuildProgress,
  readAll,
  rebuildProjection,
  resumeSubscription,
  type ServiceContext,
  type StoredEvent,
  signToken,
  subscriptionStatus,
} from '@commerce/kernel';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../../test/support/services.js';
import {
  handleSagaResult,
  placeOrder,
  resultEnvelope,
  SECRET,
  type TestDeps,
  testDeps,
} from '../../test-fixtures/harness.js';
import { upcastOrderEvent } from '../application/eventVersions.js';
import { foldAnalytics } from '../application/projections.js';
import { orderService } from '../index.js';
import { analyticsReport } from './analyticsQueries.js';
import { type ArchiveProgress, archiveFinalOrders } from './archive.js';
import { orderMigrations } from './migrations.js';
import { analyticsProjection, ORDER_PROJECTIONS } from './projections.js';
import { auditOrders } from './store.js';

const log = createLogger({ level: (process.env.TLOG as 'info') ?? 'silent' });
const items = [
  { productId: 'sku-1', quantity: 2, unitPrice: 1500 },
  { productId: 'sku-2', quantity: 1, unitPrice: 250 },
];

/** An order placed and driven to COMPLETED (ok) or CANCELLED (out of stock). */
async function order(deps: TestDeps, customerId: string, ok: boolean, currency = 'EUR'): Promise<string> {
  const placed = await placeOrder(deps, { principalSub: customerId, customerId, currency, items });
  const id = placed.kind === 'created' ? placed.order.orderId : '';
  const results: [string, unknown][] = ok
    ? [
        ['INVENTORY_RESERVED', { items }],
        ['PAYMENT_APPROVED', { amount: 3250, currency }],
        ['INVENTORY_COMMITTED', {}],
      ]
    : [
        ['PAYMENT_DECLINED', { reason: 'INSUFFICIENT_FUNDS' }],
        ['INVENTORY_RESERVATION_FAILED', { reason: 'OUT_OF_STOCK', productIds: ['sku-1'] }],
      ];
  for (const [t, data] of results) await handleSagaResult(deps, resultEnvelope(id, t, data));
  return id;
}

/** The analytics as one fold of the whole log would have them (from empty tables). */
async function freshFold(db: Database) {
  const all: StoredEvent[] = [];
  for (let page = await readAll(db); page.length > 0; page = await readAll(db, page.at(-1), 1000)) all.push(...page);
  const c = foldAnalytics(
    all.map((e) => upcastOrderEvent(e)),
    new Map(),
  );
  const since = new Date(0);
  const report = await analyticsReport(db, { period: 'hour', since, topProducts: 1000 });
  const byKey = <T>(rows: T[], key: (r: T) => string) => Object.fromEntries(rows.map((r) => [key(r), r]));
  return {
    expected: {
      sales: byKey(
        c.sales.filter((s) => s.period === 'hour'),
        (s) => `${s.bucket}|${s.currency}`,
      ),
      outcomes: Object.fromEntries(c.outcomes.map((o) => [o.status, o.delta])),
      units: Object.fromEntries(c.products.map((p) => [p.productId, p.units])),
    },
    actual: {
      sales: byKey(report.sales, (s) => `${s.bucket}|${s.currency}`),
      outcomes: report.outcomes,
      units: Object.fromEntries(report.topProducts.map((p) => [p.productId, p.units])),
    },
  };
}

function projectionsSuite(open: () => Promise<{ url?: string; drop(): Promise<void> }>): void {
  let db: Database;
  let deps: TestDeps;
  let app: FastifyInstance;
  let drop: () => Promise<void>;
  const subs: EventSubscription[] = [];

  beforeAll(async () => {
    const target = await open();
    drop = target.drop;
    db = await openDatabase({ url: target.url, name: 'order', migrations: orderMigrations, log });
    const ctx: ServiceContext = {
      name: 'order',
      settings: loadSettings({}),
      log,
      db,
      bus: new InProcessBus({ log }),
      dedup: new MemoryDedupCache(),
      instanceId: 'projections-test',
      partitionOwnership: (count) => partitionOwnershipFor(db, { instanceId: 'projections-test', count, log }),
      now: () => new Date(),
      newId: () => randomUUID(),
    };
    deps = testDeps(ctx);
    app = await createHttpServer({
      service: 'order',
      title: 'order service',
      version: 'test',
      log,
      auth: createAuthVerifier({ secret: SECRET }),
      rateLimit: null,
      readiness: { database: () => db.ping() },
    });
    await orderService.routes(app, ctx);
    await app.ready();
    for (const p of ORDER_PROJECTIONS.filter((x) => !x.inline)) {
      const s = projectionSubscription(p, { db, instanceId: 'live', leaseMs: 3000, batchSize: 100, log });
      subs.push(s);
      await s.start();
    }
  });
  afterAll(async () => {
    for (const s of subs) await s.stop();
    await app?.close();
    await db?.close();
    await drop?.();
  });

  const settled = () =>
    waitFor(async () => (await subscriptionStatus(db)).every((s) => s.lagEvents === 0 && s.state === 'running'), {
      what: 'the projections caught up',
    });
  const get = async (url: string, sub: string, role: 'customer' | 'admin' = 'customer') =>
    app.inject({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${await signToken({ secret: SECRET, sub, role })}` },
    });

  it('serves a customer order summary to the customer and admins, 404 to anyone else', async () => {
    const customer = `cust-${randomUUID().slice(0, 8)}`;
    await order(deps, customer, true);
    await order(deps, customer, false);
    const last = await order(deps, customer, true, 'USD');
    await settled();
    const own = await get(`/customers/${customer}/order-summary`, customer);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toEqual({
      customerId: customer,
      orders: { total: 3, open: 0, completed: 2, cancelled: 1 },
      spend: [
        { currency: 'EUR', orders: 2, placed: 6500, spent: 3250 },
        { currency: 'USD', orders: 1, placed: 3250, spent: 3250 },
      ],
      lastOrder: expect.objectContaining({ orderId: last, status: 'COMPLETED', currency: 'USD', totalAmount: 3250 }),
    });
    expect((await get(`/customers/${customer}/order-summary`, 'ops', 'admin')).json()).toEqual(own.json());
    expect((await get(`/customers/${customer}/order-summary`, 'someone-else')).statusCode).toBe(404);
    const anonymous = await app.inject({ method: 'GET', url: `/customers/${customer}/order-summary` });
    expect(anonymous.statusCode).toBe(401);
  });

  it('keeps sales analytics per currency and hour, outcomes, latency, products and compensation reasons', async () => {
    const before = await analyticsReport(db, { period: 'day', since: new Date(0) });
    await order(deps, 'analyst', true, 'GBP');
    await order(deps, 'analyst', false, 'GBP');
    await settled();
    const after = await analyticsReport(db, { period: 'day', since: new Date(0) });
    const gbp = after.sales.find((s) => s.currency === 'GBP');
    const gbpBefore = before.sales.find((s) => s.currency === 'GBP');
    expect((gbp?.ordersPlaced ?? 0) - (gbpBefore?.ordersPlaced ?? 0)).toBe(2);
    expect((gbp?.revenue ?? 0) - (gbpBefore?.revenue ?? 0)).toBe(3250);
    expect((after.outcomes.COMPLETED ?? 0) - (before.outcomes.COMPLETED ?? 0)).toBe(1);
    expect((after.outcomes.CANCELLED ?? 0) - (before.outcomes.CANCELLED ?? 0)).toBe(1);
    const latencyTotal = (r: typeof after) => r.latency.reduce((n, l) => n + l.orders, 0);
    expect(latencyTotal(after) - latencyTotal(before)).toBe(2);
    const reason = (r: typeof after) =>
      r.compensations.find((c) => c.kind === 'reason' && c.reason === 'INVENTORY_OUT_OF_STOCK')?.orders ?? 0;
    expect(reason(after) - reason(before)).toBe(1);
    expect(after.topProducts.find((p) => p.productId === 'sku-1' && p.currency === 'GBP')?.units).toBe(2);
    const fold = await freshFold(db);
    expect(fold.actual).toEqual(fold.expected);
  });

  it('rebuilds analytics into shadow tables while orders arrive, swaps, and equals a fresh fold', async () => {
    for (let i = 0; i < 20; i++) await order(deps, `bulk-${i % 4}`, i % 3 !== 0);
    await settled();
    // The live tables are damaged on purpose: only the rebuild from the events can put them right.
    await db.query('DELETE FROM analytics_sales');
    let arriving = true;
    const arrivals = (async () => {
      let n = 0;
      while (arriving || n < 3) {
        await order(deps, `late-${n++ % 3}`, n % 2 === 0);
        // Let timers run: PGlite answers without a trip through the event loop, so a tight loop would starve them.
        await new Promise((r) => setImmediate(r));
      }
      return n;
    })();
    // Readers of both projections' routes all through the rebuild: every answer must be a 200.
    const statuses: number[] = [];
    const readers = ['/customers/late-1/order-summary', '/admin/analytics?period=day'].map((url) =>
      (async () => {
        while (arriving) {
          statuses.push((await get(url, 'ops', 'admin')).statusCode);
          await new Promise((r) => setTimeout(r, 5));
        }
      })(),
    );
    const progress: RebuildProgress[] = [];
    const done = await rebuildProjection(db, analyticsProjection, {
      batchSize: 50,
      progressIntervalMs: 20,
      onProgress: (p) => progress.push(p),
      log,
    });
    arriving = false;
    expect(await arrivals).toBeGreaterThanOrEqual(3);
    await Promise.all(readers);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(done).toMatchObject({ projection: 'analytics', phase: 'swapped', resumed: false });
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.some((p) => p.phase === 'building' && p.total > 0)).toBe(true);
    await settled();
    const fold = await freshFold(db);
    expect(Object.keys(fold.actual.sales).length).toBeGreaterThan(0);
    expect(fold.actual).toEqual(fold.expected);
    // The live subscription took up the swapped checkpoint: no shadow remains.
    expect((await subscriptionStatus(db)).map((s) => s.name)).toEqual(['analytics', 'customer_history']);
  }, 120_000);

  it('reads a v1 ORDER_CREATED without totalAmount as v2 everywhere: decider, subscriptions, GET /orders/{id}/events', async () => {
    const orderId = randomUUID();
    const customer = `legacy-${orderId.slice(0, 6)}`;
    await db.transaction((tx) =>
      appendToStream(tx, `order-${orderId}`, 0, [
        {
          eventId: randomUUID(),
          eventType: 'ORDER_CREATED',
          // As the first builds stored it: no totalAmount, schema version 1.
          data: { customerId: customer, currency: 'EUR', items },
          occurredAt: new Date(),
          metadata: { source: 'order', schemaVersion: 1 },
        },
      ]),
    );
    // The decider loads the stream (upcast) and decides on it: the order is cancelled with its computed total.
    for (const [t, data] of [
      ['PAYMENT_DECLINED', { reason: 'INSUFFICIENT_FUNDS' }],
      ['INVENTORY_RESERVATION_FAILED', { reason: 'OUT_OF_STOCK', productIds: ['sku-1'] }],
    ] as const)
      await handleSagaResult(deps, resultEnvelope(orderId, t, data));
    const got = await get(`/orders/${orderId}`, customer);
    expect(got.json()).toMatchObject({ status: 'CANCELLED', totalAmount: 3250 });
    const events = (await get(`/orders/${orderId}/events`, customer)).json();
    expect(events[0]).toMatchObject({ type: 'ORDER_CREATED', schemaVersion: 2, data: { totalAmount: 3250 } });
    // New events are stored at the current version.
    expect(events.slice(1).every((e: { schemaVersion: number }) => e.schemaVersion === 1)).toBe(true);
    await settled();
    const summary = (await get(`/customers/${customer}/order-summary`, customer)).json();
    expect(summary.spend).toEqual([{ currency: 'EUR', orders: 1, placed: 3250, spent: 0 }]);
  });

  it('parks (or stops at) an event stored with a schemaVersion newer than it knows, with that reason', async () => {
    const stream = `order-${await order(deps, 'future', true)}`;
    const future = randomUUID();
    const top = await db.query<{ v: number }>('SELECT max(version)::int AS v FROM events WHERE stream_id = $1', [
      stream,
    ]);
    await db.transaction((tx) =>
      appendToStream(tx, stream, top.rows[0]?.v ?? 0, [
        {
          eventId: future,
          eventType: 'ORDER_CONFIRMED',
          data: {},
          occurredAt: new Date(),
          metadata: { schemaVersion: 9 },
        },
      ]),
    );
    const reason = 'schemaVersion 9 of ORDER_CONFIRMED is newer than this reader knows (1)';
    const parked = await waitFor(async () =>
      (await listParkedEvents(db, 'customer_history')).find((p) => p.eventId === future),
    );
    expect(parked.reason).toBe(reason);
    const analytics = await waitFor(async () => {
      const s = (await subscriptionStatus(db)).find((x) => x.name === 'analytics');
      return s?.state === 'stopped' ? s : undefined;
    });
    expect(analytics).toMatchObject({ failingEventId: future });
    expect(analytics.lastError).toContain(reason);
    // Put the store back for the other tests: the event goes, analytics resumes.
    await db.query('DELETE FROM events WHERE event_id = $1', [future]);
    await resumeSubscription(db, 'analytics');
    await settled();
  }, 60_000);

  it('archives the streams of orders final for 90 days: the API still answers, a rebuild reads them, the audit is clean', async () => {
    const ids = [
      await order(deps, 'archived', true),
      await order(deps, 'archived', false),
      await order(deps, 'archived', true),
    ];
    const open = await placeOrder(deps, { principalSub: 'archived', customerId: 'archived', currency: 'EUR', items });
    const pending = open.kind === 'created' ? open.order.orderId : '';
    await settled();
    const before = await Promise.all(
      ids.map(async (id) => [
        (await get(`/orders/${id}`, 'archived')).json(),
        (await get(`/orders/${id}/events`, 'archived')).json(),
      ]),
    );
    const reportBefore = await analyticsReport(db, { period: 'day', since: new Date(0), topProducts: 100 });
    await db.query("UPDATE orders SET updated_at = updated_at - interval '100 days' WHERE order_id = ANY($1::uuid[])", [
      [...ids, pending],
    ]);

    const progress: ArchiveProgress[] = [];
    const done = await archiveFinalOrders(db, {
      olderThanMs: 90 * 86_400_000,
      batchSize: 2,
      onProgress: (p) => progress.push(p),
    });
    expect(done).toMatchObject({ orders: 3, total: 3, done: true });
    expect(progress.length).toBeGreaterThan(2);
    const where = await db.query<{ hot: number; archived: number }>(
      `SELECT (SELECT count(*)::int FROM events WHERE stream_id = ANY($1::text[])) AS hot,
              (SELECT count(*)::int FROM events_archive WHERE stream_id = ANY($1::text[])) AS archived`,
      [ids.map((id) => `order-${id}`)],
    );
    expect(where.rows[0]).toEqual({ hot: 0, archived: done.events });
    // The pending order is not final: it stays.
    expect((await get(`/orders/${pending}/events`, 'archived')).json()).toHaveLength(1);
    expect((await archiveFinalOrders(db, { olderThanMs: 90 * 86_400_000 })).orders).toBe(0);

    const after = await Promise.all(
      ids.map(async (id) => [
        (await get(`/orders/${id}`, 'archived')).json(),
        (await get(`/orders/${id}/events`, 'archived')).json(),
      ]),
    );
    expect(after.map(([, events]) => events)).toEqual(before.map(([, events]) => events));
    expect(after.map(([o]) => o.status)).toEqual(before.map(([o]) => o.status));

    await rebuildProjection(db, analyticsProjection, { log });
    await settled();
    const reportAfter = await analyticsReport(db, { period: 'day', since: new Date(0), topProducts: 100 });
    expect(reportAfter.outcomes).toEqual(reportBefore.outcomes);
    expect(reportAfter.sales).toEqual(reportBefore.sales);
    const fold = await freshFold(db);
    expect(fold.actual).toEqual(fold.expected);
    const audit = await auditOrders(db);
    expect(audit.repeatedEvents).toEqual([]);
    expect(audit.versionGaps).toEqual([]);
  }, 60_000);
}

describe('order projections on PGlite', () => {
  projectionsSuite(async () => ({ drop: async () => {} }));
});

describeWith(['postgres'], 'order projections on PostgreSQL', () => {
  projectionsSuite(async () => {
    const t = await createTestDatabase('orderproj');
    return { url: t.url, drop: t.drop };
  });
});
