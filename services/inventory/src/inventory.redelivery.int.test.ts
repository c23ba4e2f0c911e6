import { randomUUID } from 'node:crypto';
import type { Envelope } from '@commerce/contracts';
import { commitChange, type Database, MemoryDedupCache, openDatabase, type Settings } from '@commerce/kernel';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { orderEnvelope as env } from '../../../test/support/consumers.js';
import { shuffledRepeats } from '../../../test/support/random.js';
import { createTestDatabase, describeWith } from '../../../test/support/services.js';
import { handleInventoryOrderEvent } from './adapters/consumer.js';
import { inventoryMigrations } from './adapters/migrations.js';
import { readProduct } from './adapters/store.js';
import { putProduct } from './application/putProduct.js';
import { inventoryDeps } from './index.js';

const PRODUCTS = ['p1', 'p2', 'p3', 'p4'];

/** Each order's messages, in the order the saga sends them. */
function scenario(kind: 'completed' | 'compensated' | 'failed', i: number): Envelope[] {
  const orderId = randomUUID();
  const a = PRODUCTS[i % 4]!;
  const b = PRODUCTS[(i + 1) % 4]!;
  const quantity = kind === 'failed' ? 10_000 : 1 + (i % 3);
  const items = [
    { productId: a, quantity, unitPrice: 100 },
    { productId: b, quantity: 1, unitPrice: 100 },
  ].sort((x, y) => x.productId.localeCompare(y.productId));
  const createdMsg = env('ORDER_CREATED', orderId, {
    customerId: 'c',
    currency: 'EUR',
    items,
    totalAmount: (quantity + 1) * 100,
  });
  if (kind === 'completed') return [createdMsg, env('ORDER_CONFIRMED', orderId, {})];
  if (kind === 'failed')
    return [
      createdMsg,
      env('ORDER_CANCELLED', orderId, { reasons: ['x'], requiresRefund: true, requiresInventoryRollback: false }),
    ];
  return [
    createdMsg,
    env('ORDER_CANCELLED', orderId, { reasons: ['x'], requiresRefund: true, requiresInventoryRollback: true }),
    env('ORDER_INVENTORY_ROLLBACK_REQUESTED', orderId, {}),
  ];
}

describeWith(['postgres'], 'inventory under duplicated, shuffled delivery', () => {
  const dbs: { db: Database; drop(): Promise<void> }[] = [];
  /** A fresh database with the products, and how an order message is handled there. */
  async function fresh() {
    const t = await createTestDatabase('inv_redeliver');
    const db = await openDatabase({ url: t.url, name: 'inventory', migrations: inventoryMigrations });
    dbs.push({ db, drop: t.drop });
    const now = new Date('2026-03-01T12:00:00.000Z');
    const deps = inventoryDeps({
      now: () => now,
      newId: randomUUID,
      settings: { reservationTtlMs: 3_600_000 } as Settings,
    });
    for (const productId of PRODUCTS)
      await commitChange(
        db,
        putProduct(deps, { productId, name: productId, unitPrice: 100, currency: 'EUR', stock: 1000 }),
      );
    const handle = (envelope: Envelope, dedup = new MemoryDedupCache()) =>
      handleInventoryOrderEvent(deps, { db, dedup }, { envelope });
    return { db, handle };
  }
  afterAll(async () => {
    for (const d of dbs) {
      await d.db.close();
      await d.drop();
    }
  });

  let orders: Envelope[][];
  beforeAll(() => {
    const kinds = ['completed', 'compensated', 'failed'] as const;
    orders = Array.from({ length: 60 }, (_, i) => scenario(kinds[i % 3]!, i));
  });

  it('ends with exactly the stock of single in-order delivery (every message 3 times, rollbacks before creates)', async () => {
    const reference = await fresh();
    for (const msgs of orders) for (const m of msgs) await reference.handle(m);

    const shuffled = await fresh();
    const seed = 20260301;
    const deliveries = shuffledRepeats(orders.flat(), 3, seed);
    // ORDER_CONFIRMED is caused by INVENTORY_RESERVED, so it can never precede the first ORDER_CREATED of its order.
    const firstCreate = new Map<string, number>();
    deliveries.forEach((m, i) => {
      if (m.eventType === 'ORDER_CREATED' && !firstCreate.has(m.orderId)) firstCreate.set(m.orderId, i);
    });
    const early = deliveries.filter((m, i) => m.eventType === 'ORDER_CONFIRMED' && i < firstCreate.get(m.orderId)!);
    const ordered = [...deliveries.filter((m) => !early.includes(m)), ...early];
    let rollbackFirst = 0;
    for (const msgs of orders) {
      const firstCreateAt = ordered.findIndex((m) => m.orderId === msgs[0]!.orderId && m.eventType === 'ORDER_CREATED');
      const firstUndoAt = ordered.findIndex(
        (m) => m.orderId === msgs[0]!.orderId && m.eventType === 'ORDER_INVENTORY_ROLLBACK_REQUESTED',
      );
      if (firstUndoAt >= 0 && firstUndoAt < firstCreateAt) rollbackFirst++;
    }
    expect(rollbackFirst, `seed ${seed}: some rollbacks must arrive before their create`).toBeGreaterThan(0);

    // Deliver in that order, several at a time, each copy through a cache that forgets (like a restart).
    const forgetful = new MemoryDedupCache({ maxEntries: 1 });
    for (let i = 0; i < ordered.length; i += 6) {
      const batch = ordered.slice(i, i + 6);
      // Messages of one order stay in sequence inside a batch (a partition never runs them side by side).
      const byOrder = new Map<string, Envelope[]>();
      for (const m of batch) byOrder.set(m.orderId, [...(byOrder.get(m.orderId) ?? []), m]);
      await Promise.all(
        [...byOrder.values()].map(async (msgs) => {
          for (const m of msgs) await shuffled.handle(m, forgetful);
        }),
      );
    }

    for (const productId of PRODUCTS) {
      const want = await readProduct(reference.db, productId);
      const got = await readProduct(shuffled.db, productId);
      expect(got, productId).toEqual(want);
    }
    const sold = await readProduct(shuffled.db, 'p1');
    expect(sold!.sold).toBeGreaterThan(0);
    expect(sold!.reserved).toBe(0);
    const movements = await shuffled.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT order_id, product_id, kind FROM stock_movements WHERE order_id IS NOT NULL
        GROUP BY 1, 2, 3 HAVING count(*) > 1) d`,
    );
    expect(movements.rows[0]?.n, 'no effect applied twice').toBe(0);
  });
});
