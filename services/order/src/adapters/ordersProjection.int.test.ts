/**
 * The inline `orders` read model rebuilt by the projection machinery (kernel projections.ts, `inline: true`): into a
 * shadow table from position 0 while orders keep being placed and driven (their changes written inline to the live
 * table), then swapped with every committed event applied under a lock, so that no write of the rebuild's time is lost.
 */
import { type RebuildProgress, rebuildProjection } from '@commerce/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../../../../test/support/services.js';
import {
  handleSagaResult,
  type OrderHarness,
  orderHarness,
  placeOrder,
  resultEnvelope,
} from '../../test-fixtures/harness.js';
import { orderStore, ordersProjection } from './store.js';

const items = [{ productId: 'sku-1', quantity: 2, unitPrice: 1500 }];

function rebuildSuite(embedded: boolean): void {
  let h: OrderHarness;
  beforeAll(async () => {
    h = await orderHarness({}, { embedded });
  });
  afterAll(async () => {
    await h?.close();
  });

  const newOrder = async (): Promise<string> => {
    const placed = await placeOrder(h.deps, { principalSub: 'c', customerId: 'c', currency: 'EUR', items });
    if (placed.kind !== 'created') throw new Error(`expected a new order, got ${placed.kind}`);
    return placed.order.orderId;
  };
  const drive = async (orderId: string, complete: boolean) => {
    await handleSagaResult(h.deps, resultEnvelope(orderId, 'INVENTORY_RESERVED', { items }));
    await handleSagaResult(h.deps, resultEnvelope(orderId, 'PAYMENT_APPROVED', { amount: 3000, currency: 'EUR' }));
    if (complete) await handleSagaResult(h.deps, resultEnvelope(orderId, 'INVENTORY_COMMITTED', {}));
  };

  it('rebuilds into a shadow table while orders are placed and driven, swaps, and every row equals a fold of its stream', async () => {
    const before: string[] = [];
    for (let i = 0; i < 40; i++) {
      const id = await newOrder();
      await drive(id, i % 2 === 0);
      before.push(id);
    }
    // A read model gone wrong: a row behind its stream, a row missing.
    await h.db.query("UPDATE orders SET status = 'PENDING', version = 1 WHERE order_id = $1", [before[0]]);
    await h.db.query('DELETE FROM orders WHERE order_id = $1', [before[1]]);

    let writing = true;
    const during: string[] = [];
    const writer = (async () => {
      while (writing) {
        const id = await newOrder();
        during.push(id);
        await drive(id, during.length % 2 === 0);
        // One order after another, as requests come in: let the rebuild's timers run (PGlite answers in microtasks).
        await new Promise((r) => setImmediate(r));
      }
    })();
    const progress: RebuildProgress[] = [];
    try {
      await rebuildProjection(h.db, ordersProjection, {
        batchSize: 25,
        progressIntervalMs: 20,
        onProgress: (p) => {
          progress.push(p);
          if (process.env.TLOG) console.log(JSON.stringify(p));
        },
      });
    } finally {
      writing = false;
      await writer;
    }
    expect(during.length).toBeGreaterThan(0);
    expect(progress.at(-1)?.phase).toBe('swapped');

    const rows = (
      await h.db.query<{ order_id: string; status: string; version: number }>(
        'SELECT order_id::text AS order_id, status, version FROM orders ORDER BY order_id',
      )
    ).rows;
    const ids = [...before, ...during].sort();
    expect(rows.map((r) => r.order_id)).toEqual(ids);
    for (const r of rows) {
      const state = await orderStore.loadOrder(h.db, r.order_id);
      expect({ id: r.order_id, status: r.status, version: r.version }).toEqual({
        id: r.order_id,
        status: state.status,
        version: state.version,
      });
    }
    // Nothing of the rebuild is left behind: its schema and checkpoint are gone; the table keeps its indexes.
    const leftovers = await h.db.query(
      `SELECT 1 FROM information_schema.schemata WHERE schema_name = 'rebuild_orders'
       UNION ALL SELECT 1 FROM subscription_checkpoints WHERE name LIKE 'orders%'`,
    );
    expect(leftovers.rowCount).toBe(0);
    const indexes = await h.db.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'orders' ORDER BY indexname",
    );
    expect(indexes.rows.map((r) => r.indexname)).toEqual(
      expect.arrayContaining(['orders_by_created', 'orders_by_customer', 'orders_by_status', 'orders_to_archive']),
    );
  }, 60_000);

  it('refuses a live subscription for it: the service writes it with its events', async () => {
    const { projectionSubscription } = await import('@commerce/kernel');
    expect(() => projectionSubscription(ordersProjection, { db: h.db, instanceId: 'x' })).toThrow(/written inline/);
  });
}

describe('the orders read model rebuilt on PGlite', () => {
  rebuildSuite(true);
});

describeWith(['postgres'], 'the orders read model rebuilt on PostgreSQL', () => {
  rebuildSuite(false);
});
