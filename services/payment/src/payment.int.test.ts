import { randomUUID } from 'node:crypto';
import type { Envelope } from '@commerce/contracts';
import { commitChange, type Database, MemoryDedupCache, openDatabase } from '@commerce/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEnvelope as env } from '../../../test/support/consumers.js';
import { createTestDatabase, describeWith } from '../../../test/support/services.js';
import { handlePaymentOrderEvent } from './adapters/consumer.js';
import { paymentMigrations } from './adapters/migrations.js';
import { paymentStore, readAccount, readPayment } from './adapters/store.js';
import type { PaymentDeps } from './application/ports.js';
import { putAccount } from './application/putAccount.js';

const created = (orderId: string, customerId: string, totalAmount: number, currency = 'EUR') =>
  env('ORDER_CREATED', orderId, {
    customerId,
    currency,
    items: [{ productId: 'p', quantity: 1, unitPrice: totalAmount }],
    totalAmount,
  });
const rollback = (orderId: string, amount: number, currency = 'EUR') =>
  env('ORDER_PAYMENT_ROLLBACK_REQUESTED', orderId, { amount, currency });
const cancelled = (orderId: string, requiresRefund = true) =>
  env('ORDER_CANCELLED', orderId, { reasons: ['x'], requiresRefund, requiresInventoryRollback: true });

async function outboxFor(db: Database, orderId: string) {
  const res = await db.query<{ exchange: string; routing_key: string; envelope: Envelope; traceparent: string | null }>(
    'SELECT exchange, routing_key, envelope, traceparent FROM outbox WHERE partition_key = $1 ORDER BY id',
    [orderId],
  );
  return res.rows;
}
async function balanceOf(db: Database, customerId: string) {
  return (await readAccount(db, customerId))?.balance;
}
/** The balance equals the sum of its movements (SPEC §9 money conservation, from the records). */
async function movementsSum(db: Database, customerId: string) {
  const res = await db.query<{ s: number }>(
    'SELECT coalesce(sum(delta), 0)::bigint AS s FROM money_movements WHERE customer_id = $1',
    [customerId],
  );
  return Number(res.rows[0]?.s);
}

describeWith(['postgres'], 'payment on PostgreSQL', () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  const now = new Date('2026-03-01T12:00:00.000Z');
  const deps: PaymentDeps = { store: paymentStore, now: () => now, newId: randomUUID };
  let dedup = new MemoryDedupCache();
  const handle = (envelope: Envelope, traceparent?: string) =>
    handlePaymentOrderEvent(deps, { db, dedup }, { envelope, traceparent });
  const put = (account: { customerId: string; balance: number; currency: string }) =>
    commitChange(db, putAccount(deps, account));

  beforeAll(async () => {
    testDb = await createTestDatabase('payment');
    db = await openDatabase({ url: testDb.url, name: 'payment', migrations: paymentMigrations, poolSize: 12 });
    await put({ customerId: 'alice', balance: 10_000, currency: 'EUR' });
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  describe('deduction outcomes, each with its event in the outbox', () => {
    it('approves, deducts once and publishes PAYMENT_APPROVED with causation and traceparent', async () => {
      const orderId = randomUUID();
      const msg = created(orderId, 'alice', 2500);
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      await handle(msg, traceparent);
      dedup = new MemoryDedupCache(); // the inbox alone must hold
      await handle(msg);
      expect(await balanceOf(db, 'alice')).toBe(7500);
      const rows = await outboxFor(db, orderId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ exchange: 'payment_events', routing_key: 'payment.approved', traceparent });
      expect(rows[0]!.envelope).toMatchObject({
        eventType: 'PAYMENT_APPROVED',
        causationId: msg.eventId,
        source: 'payment',
        orderId,
        data: { amount: 2500, currency: 'EUR' },
      });
      expect(await readPayment(db, orderId)).toMatchObject({ status: 'APPROVED', amount: 2500, customerId: 'alice' });

      // Refund exactly once, though both the cancellation and the rollback request ask for it.
      await handle(cancelled(orderId));
      await handle(rollback(orderId, 2500));
      expect(await balanceOf(db, 'alice')).toBe(10_000);
      expect((await outboxFor(db, orderId)).map((r) => [r.routing_key, r.envelope.data])).toEqual([
        ['payment.approved', { amount: 2500, currency: 'EUR' }],
        ['payment.refunded', { amount: 2500, currency: 'EUR' }],
        ['payment.refunded', { amount: 2500, currency: 'EUR' }],
      ]);
      expect(await readPayment(db, orderId)).toMatchObject({ status: 'REFUNDED', refundedAmount: 2500 });
      expect(await movementsSum(db, 'alice')).toBe(10_000);
    });

    it.each([
      ['INSUFFICIENT_FUNDS', 'alice', 10_001, 'EUR'],
      ['UNKNOWN_CUSTOMER', 'nobody', 1, 'EUR'],
      ['CURRENCY_MISMATCH', 'alice', 1, 'USD'],
    ])('%s: nothing taken, PAYMENT_DECLINED published', async (reason, customerId, amount, currency) => {
      const orderId = randomUUID();
      await handle(created(orderId, customerId, amount, currency));
      expect(await balanceOf(db, 'alice')).toBe(10_000);
      const rows = await outboxFor(db, orderId);
      expect(rows.map((r) => [r.exchange, r.routing_key, r.envelope.data])).toEqual([
        ['payment_events', 'payment.declined', { reason }],
      ]);
      expect(await readPayment(db, orderId)).toMatchObject({ status: 'DECLINED', reason });
      // A refund request for a declined payment gives nothing back, and says so.
      await handle(rollback(orderId, amount, currency));
      expect((await outboxFor(db, orderId))[1]?.envelope.data).toEqual({ amount: 0, currency });
      expect(await balanceOf(db, 'alice')).toBe(10_000);
    });

    it('rollback before the request: marker, PAYMENT_REFUNDED 0, the late ORDER_CREATED takes nothing', async () => {
      const orderId = randomUUID();
      await handle(cancelled(orderId));
      expect(await outboxFor(db, orderId)).toEqual([]); // ORDER_CANCELLED has no currency: the rollback request answers
      await handle(rollback(orderId, 300));
      await handle(created(orderId, 'alice', 300));
      expect(await balanceOf(db, 'alice')).toBe(10_000);
      expect((await outboxFor(db, orderId)).map((r) => [r.routing_key, r.envelope.data])).toEqual([
        ['payment.refunded', { amount: 0, currency: 'EUR' }],
        ['payment.refunded', { amount: 0, currency: 'EUR' }],
      ]);
      expect(await readPayment(db, orderId)).toMatchObject({ status: 'REFUNDED', reason: 'UNDONE_BEFORE_REQUEST' });
    });
  });

  it('100 concurrent orders of one customer whose balance covers 40: exactly 40 approved, never negative', async () => {
    await put({ customerId: 'bob', balance: 40 * 250, currency: 'EUR' });
    const orders = Array.from({ length: 100 }, () => randomUUID());
    await Promise.all(orders.map((orderId) => handle(created(orderId, 'bob', 250))));
    expect(await balanceOf(db, 'bob')).toBe(0);
    const outcomes = await db.query<{ t: string; n: number }>(
      `SELECT envelope->>'eventType' AS t, count(*)::int AS n FROM outbox WHERE partition_key = ANY($1::text[]) GROUP BY 1`,
      [orders],
    );
    expect(Object.fromEntries(outcomes.rows.map((r) => [r.t, r.n]))).toEqual({
      PAYMENT_APPROVED: 40,
      PAYMENT_DECLINED: 60,
    });
    const lowest = await db.query<{ m: number }>(
      `SELECT min(balance_after)::bigint AS m FROM money_movements WHERE customer_id = 'bob'`,
    );
    expect(Number(lowest.rows[0]?.m)).toBe(0);
    expect(await movementsSum(db, 'bob')).toBe(0);
  });

  it('an admin PUT records the balance difference as a movement', async () => {
    await put({ customerId: 'carol', balance: 500, currency: 'GBP' });
    await put({ customerId: 'carol', balance: 200, currency: 'GBP' });
    expect(await readAccount(db, 'carol')).toEqual({ customerId: 'carol', balance: 200, currency: 'GBP' });
    const kinds = await db.query<{ kind: string; delta: number }>(
      `SELECT kind, delta FROM money_movements WHERE customer_id = 'carol' ORDER BY id`,
    );
    expect(kinds.rows.map((r) => [r.kind, Number(r.delta)])).toEqual([
      ['set', 500],
      ['set', -300],
    ]);
  });
});
