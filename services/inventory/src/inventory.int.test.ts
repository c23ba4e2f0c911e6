import { randomUUID } from 'node:crypto';
import type { Envelope } from '@commerce/contracts';
import { commitChange, type Database, MemoryDedupCache, openDatabase, type Settings } from '@commerce/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEnvelope as envelope } from '../../../test/support/consumers.js';
import { createTestDatabase, describeWith } from '../../../test/support/services.js';
import { handleInventoryOrderEvent } from './adapters/consumer.js';
import { inventoryMigrations } from './adapters/migrations.js';
import { releaseExpiredReservations } from './adapters/reservationSweeper.js';
import { readProduct, readReservation } from './adapters/store.js';
import type { InventoryDeps } from './application/ports.js';
import { putProduct } from './application/putProduct.js';
import { restockProduct } from './application/restockProduct.js';
import type { PutProduct } from './domain/product.js';
import { inventoryDeps } from './index.js';

const TTL = 60_000;

const created = (
  orderId: string,
  items: { productId: string; quantity: number; unitPrice: number }[],
  currency = 'EUR',
) =>
  envelope('ORDER_CREATED', orderId, {
    customerId: 'c1',
    currency,
    items,
    totalAmount: items.reduce((s, l) => s + l.quantity * l.unitPrice, 0),
  });
const confirmed = (orderId: string) => envelope('ORDER_CONFIRMED', orderId, {});
const rollback = (orderId: string) => envelope('ORDER_INVENTORY_ROLLBACK_REQUESTED', orderId, {});
const cancelled = (orderId: string) =>
  envelope('ORDER_CANCELLED', orderId, { reasons: ['test'], requiresRefund: true, requiresInventoryRollback: true });

interface OutboxRow {
  exchange: string;
  routing_key: string;
  envelope: Envelope;
  traceparent: string | null;
}
async function outboxFor(db: Database, orderId: string): Promise<OutboxRow[]> {
  const res = await db.query<OutboxRow>(
    `SELECT exchange, routing_key, envelope, traceparent FROM outbox WHERE partition_key = $1 ORDER BY id`,
    [orderId],
  );
  return res.rows;
}

async function stockOf(db: Database, productId: string) {
  const p = await readProduct(db, productId);
  if (!p) throw new Error(`no product ${productId}`);
  return { available: p.available, reserved: p.reserved, sold: p.sold };
}

/** Sum of every movement of a product equals its current counts (SPEC §9 stock conservation, from the records). */
async function movementsSum(db: Database, productId: string) {
  const res = await db.query<{ a: number; r: number; s: number }>(
    `SELECT coalesce(sum(delta_available), 0)::bigint AS a, coalesce(sum(delta_reserved), 0)::bigint AS r,
            coalesce(sum(delta_sold), 0)::bigint AS s FROM stock_movements WHERE product_id = $1`,
    [productId],
  );
  const row = res.rows[0]!;
  return { available: Number(row.a), reserved: Number(row.r), sold: Number(row.s) };
}

describeWith(['postgres'], 'inventory on PostgreSQL', () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  let clock = new Date('2026-03-01T12:00:00.000Z');
  let ctx: { db: Database; dedup: MemoryDedupCache };
  let deps: InventoryDeps;
  /** An order message, as the consumer handles it (`dedup`: another cache, as after a restart). */
  const handle = (envelope: Envelope, o: { traceparent?: string; dedup?: MemoryDedupCache } = {}) =>
    handleInventoryOrderEvent(deps, { ...ctx, dedup: o.dedup ?? ctx.dedup }, { envelope, traceparent: o.traceparent });
  const put = async (p: PutProduct) => commitChange(db, putProduct(deps, p));
  const restock = async (productId: string, quantity: number) => {
    const out = await commitChange(db, restockProduct(deps, { productId, quantity }));
    return out.kind === 'applied' ? out.result : undefined;
  };

  beforeAll(async () => {
    testDb = await createTestDatabase('inventory');
    db = await openDatabase({ url: testDb.url, name: 'inventory', migrations: inventoryMigrations, poolSize: 12 });
    ctx = { db, dedup: new MemoryDedupCache() };
    deps = inventoryDeps({
      now: () => clock,
      newId: randomUUID,
      settings: { reservationTtlMs: TTL } as Settings,
    });
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  describe('reservation outcomes, each with its event in the outbox', () => {
    beforeAll(async () => {
      await put({ productId: 'pen', name: 'Pen', unitPrice: 150, currency: 'EUR', stock: 5 });
      await put({ productId: 'ink', name: 'Ink', unitPrice: 900, currency: 'EUR', stock: 1 });
    });

    it('reserves every line and publishes INVENTORY_RESERVED with causation, source and traceparent', async () => {
      const orderId = randomUUID();
      const msg = created(orderId, [
        { productId: 'pen', quantity: 2, unitPrice: 150 },
        { productId: 'ink', quantity: 1, unitPrice: 900 },
      ]);
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      await handle(msg, { traceparent });
      expect(await stockOf(db, 'pen')).toEqual({ available: 3, reserved: 2, sold: 0 });
      expect(await stockOf(db, 'ink')).toEqual({ available: 0, reserved: 1, sold: 0 });
      const [row] = await outboxFor(db, orderId);
      expect(row).toMatchObject({ exchange: 'inventory_events', routing_key: 'inventory.reserved', traceparent });
      expect(row!.envelope).toMatchObject({
        eventType: 'INVENTORY_RESERVED',
        causationId: msg.eventId,
        source: 'inventory',
        orderId,
        schemaVersion: 1,
        data: { items: (msg.data as { items: unknown }).items },
      });
      expect((await readReservation(db, orderId))?.status).toBe('RESERVED');

      // ORDER_CONFIRMED commits it: reserved → sold.
      await handle(confirmed(orderId));
      expect(await stockOf(db, 'pen')).toEqual({ available: 3, reserved: 0, sold: 2 });
      expect((await outboxFor(db, orderId)).map((r) => r.envelope.eventType)).toEqual([
        'INVENTORY_RESERVED',
        'INVENTORY_COMMITTED',
      ]);
    });

    it.each([
      ['OUT_OF_STOCK', [{ productId: 'ink', quantity: 1, unitPrice: 900 }], 'EUR', ['ink']],
      ['UNKNOWN_PRODUCT', [{ productId: 'nope', quantity: 1, unitPrice: 1 }], 'EUR', ['nope']],
      ['PRICE_MISMATCH', [{ productId: 'pen', quantity: 1, unitPrice: 149 }], 'EUR', ['pen']],
      ['CURRENCY_MISMATCH', [{ productId: 'pen', quantity: 1, unitPrice: 150 }], 'USD', ['pen']],
    ])(
      '%s: nothing reserved, INVENTORY_RESERVATION_FAILED names the products',
      async (reason, items, currency, ids) => {
        const before = await stockOf(db, 'pen');
        const orderId = randomUUID();
        await handle(created(orderId, items, currency));
        expect(await stockOf(db, 'pen')).toEqual(before);
        const rows = await outboxFor(db, orderId);
        expect(rows).toHaveLength(1);
        expect(rows[0]).toMatchObject({ exchange: 'inventory_events', routing_key: 'inventory.reservation.failed' });
        expect(rows[0]!.envelope.data).toEqual({ reason, productIds: ids });
        expect(await readReservation(db, orderId)).toBeUndefined();
      },
    );

    it('a rollback before the request: marker, INVENTORY_RELEASED twice, the late ORDER_CREATED reserves nothing', async () => {
      const orderId = randomUUID();
      const before = await stockOf(db, 'pen');
      await handle(rollback(orderId));
      expect((await readReservation(db, orderId))?.rollbackMarker).toBe(true);
      await handle(created(orderId, [{ productId: 'pen', quantity: 1, unitPrice: 150 }]));
      expect(await stockOf(db, 'pen')).toEqual(before);
      expect((await readReservation(db, orderId))?.status).toBe('UNDONE_BEFORE_REQUEST');
      expect((await outboxFor(db, orderId)).map((r) => r.routing_key)).toEqual([
        'inventory.released',
        'inventory.released',
      ]);
    });

    it('cancel and rollback both arrive: released once, answered each time; a replayed message changes nothing', async () => {
      const orderId = randomUUID();
      const before = await stockOf(db, 'pen');
      const create = created(orderId, [{ productId: 'pen', quantity: 2, unitPrice: 150 }]);
      await handle(create);
      await handle(cancelled(orderId));
      const rb = rollback(orderId);
      await handle(rb);
      // Replay of the same message id, past the fast cache: the inbox row refuses it.
      await handle(rb, { dedup: new MemoryDedupCache() });
      await handle(create, { dedup: new MemoryDedupCache() });
      expect(await stockOf(db, 'pen')).toEqual(before);
      expect((await outboxFor(db, orderId)).map((r) => r.routing_key)).toEqual([
        'inventory.reserved',
        'inventory.released',
        'inventory.released',
      ]);
      const kinds = await db.query<{ kind: string }>(
        'SELECT kind FROM stock_movements WHERE order_id = $1 ORDER BY id',
        [orderId],
      );
      expect(kinds.rows.map((r) => r.kind)).toEqual(['reservation', 'release']);
    });

    it('admin set and restock are recorded as movements: counts equal the sum of movements', async () => {
      await put({ productId: 'pen', name: 'Pen v2', unitPrice: 150, currency: 'EUR', stock: 40 });
      await restock('pen', 7);
      const p = await readProduct(db, 'pen');
      expect(p).toMatchObject({ name: 'Pen v2', available: 47 });
      for (const id of ['pen', 'ink']) expect(await movementsSum(db, id)).toEqual(await stockOf(db, id));
      expect(await restock('ghost', 1)).toBeUndefined();
    });
  });

  it('200 concurrent orders for 50 units: exactly 50 reserved, never negative', async () => {
    await put({ productId: 'hot', name: 'Hot', unitPrice: 100, currency: 'EUR', stock: 50 });
    const orders = Array.from({ length: 200 }, () => randomUUID());
    await Promise.all(
      orders.map((orderId) => handle(created(orderId, [{ productId: 'hot', quantity: 1, unitPrice: 100 }]))),
    );
    expect(await stockOf(db, 'hot')).toEqual({ available: 0, reserved: 50, sold: 0 });
    const outcomes = await db.query<{ t: string; n: number }>(
      `SELECT envelope->>'eventType' AS t, count(*)::int AS n FROM outbox WHERE partition_key = ANY($1::text[]) GROUP BY 1`,
      [orders],
    );
    expect(Object.fromEntries(outcomes.rows.map((r) => [r.t, r.n]))).toEqual({
      INVENTORY_RESERVED: 50,
      INVENTORY_RESERVATION_FAILED: 150,
    });
    expect(await movementsSum(db, 'hot')).toEqual(await stockOf(db, 'hot'));
  });

  it('expired reservations are released once with two sweepers running at the same time', async () => {
    await put({ productId: 'slow', name: 'Slow', unitPrice: 10, currency: 'EUR', stock: 30 });
    const orders = Array.from({ length: 20 }, () => randomUUID());
    for (const orderId of orders) await handle(created(orderId, [{ productId: 'slow', quantity: 1, unitPrice: 10 }]));
    // One more, reserved later: not expired yet when the sweepers run.
    const fresh = randomUUID();
    clock = new Date(clock.getTime() + TTL / 2);
    await handle(created(fresh, [{ productId: 'slow', quantity: 1, unitPrice: 10 }]));
    expect(await stockOf(db, 'slow')).toEqual({ available: 9, reserved: 21, sold: 0 });

    clock = new Date(clock.getTime() + TTL / 2);
    // Earlier tests' reservations (the 50 'hot' ones) are due too: each due reservation must be released once.
    const due = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM reservations WHERE status = 'RESERVED' AND expires_at <= $1`,
      [clock],
    );
    expect(due.rows[0]!.n).toBeGreaterThanOrEqual(20);
    const [a, b] = await Promise.all([
      releaseExpiredReservations(db, deps, 3),
      releaseExpiredReservations(db, deps, 3),
    ]);
    expect(a + b).toBe(due.rows[0]!.n);
    expect(await stockOf(db, 'slow')).toEqual({ available: 29, reserved: 1, sold: 0 });
    const released = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE partition_key = ANY($1::text[]) AND routing_key = 'inventory.released'`,
      [orders],
    );
    expect(released.rows[0]?.n).toBe(20);
    const expiry = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM stock_movements WHERE kind = 'expiry' AND order_id = ANY($1::uuid[])`,
      [orders],
    );
    expect(expiry.rows[0]?.n).toBe(20);
    expect(await movementsSum(db, 'slow')).toEqual(await stockOf(db, 'slow'));
    expect((await readReservation(db, fresh))?.status).toBe('RESERVED');
    expect(await releaseExpiredReservations(db, deps)).toBe(0);
    // A late confirmation of an expired reservation commits nothing.
    await handle(confirmed(orders[0]!));
    expect(await stockOf(db, 'slow')).toEqual({ available: 29, reserved: 1, sold: 0 });
  });

  it('expired, then ORDER_CONFIRMED: nothing committed, INVENTORY_RELEASED answered (the order must not stay CONFIRMED)', async () => {
    await put({ productId: 'late', name: 'Late', unitPrice: 20, currency: 'EUR', stock: 5 });
    const orderId = randomUUID();
    await handle(created(orderId, [{ productId: 'late', quantity: 2, unitPrice: 20 }]));
    clock = new Date(clock.getTime() + TTL);
    expect(await releaseExpiredReservations(db, deps)).toBeGreaterThanOrEqual(1);
    expect((await readReservation(db, orderId))?.status).toBe('EXPIRED');
    const confirm = confirmed(orderId);
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await handle(confirm, { traceparent });
    expect(await stockOf(db, 'late')).toEqual({ available: 5, reserved: 0, sold: 0 });
    expect((await readReservation(db, orderId))?.status).toBe('EXPIRED');
    const rows = await outboxFor(db, orderId);
    // reserved, the sweeper's release, then the answer to the confirmation
    expect(rows.map((r) => r.routing_key)).toEqual(['inventory.reserved', 'inventory.released', 'inventory.released']);
    expect(rows[2]).toMatchObject({ exchange: 'inventory_events', traceparent });
    expect(rows[2]!.envelope).toMatchObject({
      eventType: 'INVENTORY_RELEASED',
      causationId: confirm.eventId,
      source: 'inventory',
      orderId,
      data: {},
    });
    // a redelivered confirmation (same message id) answers nothing more
    await handle(confirm, { dedup: new MemoryDedupCache() });
    expect(await outboxFor(db, orderId)).toHaveLength(3);
    const kinds = await db.query<{ kind: string }>('SELECT kind FROM stock_movements WHERE order_id = $1 ORDER BY id', [
      orderId,
    ]);
    expect(kinds.rows.map((r) => r.kind)).toEqual(['reservation', 'expiry']);
    expect(await movementsSum(db, 'late')).toEqual(await stockOf(db, 'late'));
  });
});
