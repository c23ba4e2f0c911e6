import { randomUUID } from 'node:crypto';
import { openDatabase, readStream } from '@commerce/kernel';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, waitFor } from '../../../test/support/services.js';
import {
  cancelOrder,
  fireDueDeadlines,
  handleSagaResult,
  type OrderHarness,
  orderHarness,
  placeOrder,
  resultEnvelope,
  retryCompensation,
  type TestDeps,
} from '../test-fixtures/harness.js';
import { orderMigrations, orderService, rebuildOrderProjections } from './index.js';

const items = [{ productId: 'sku-1', quantity: 2, unitPrice: 1500 }];
const R = {
  reserved: (o: string) => resultEnvelope(o, 'INVENTORY_RESERVED', { items }),
  failed: (o: string) =>
    resultEnvelope(o, 'INVENTORY_RESERVATION_FAILED', { reason: 'OUT_OF_STOCK', productIds: ['sku-1'] }),
  committed: (o: string) => resultEnvelope(o, 'INVENTORY_COMMITTED', {}),
  released: (o: string) => resultEnvelope(o, 'INVENTORY_RELEASED', {}),
  approved: (o: string) => resultEnvelope(o, 'PAYMENT_APPROVED', { amount: 3000, currency: 'EUR' }),
  declined: (o: string) => resultEnvelope(o, 'PAYMENT_DECLINED', { reason: 'INSUFFICIENT_FUNDS' }),
  refunded: (o: string) => resultEnvelope(o, 'PAYMENT_REFUNDED', { amount: 3000, currency: 'EUR' }),
};
type Step = keyof typeof R;

describeWith(['postgres'], 'order saga on PostgreSQL (results fed to the handler)', () => {
  let h: OrderHarness;
  let deps: TestDeps;
  beforeAll(async () => {
    h = await orderHarness();
    deps = h.deps;
  });
  afterAll(async () => {
    await h?.close();
  });

  async function newOrder(d: TestDeps = deps): Promise<string> {
    const r = await placeOrder(d, { principalSub: 'alice', customerId: 'alice', currency: 'EUR', items });
    if (r.kind !== 'created') throw new Error('not created');
    return r.order.orderId;
  }
  const status = async (orderId: string) =>
    (await h.db.query<{ status: string }>('SELECT status FROM orders WHERE order_id = $1', [orderId])).rows[0]?.status;
  const streamTypes = async (orderId: string) => (await readStream(h.db, `order-${orderId}`)).map((e) => e.eventType);
  const outbox = async (orderId: string) =>
    (
      await h.db.query<{ routing_key: string; envelope: Record<string, unknown>; traceparent: string | null }>(
        "SELECT routing_key, envelope, traceparent FROM outbox WHERE envelope->>'orderId' = $1 ORDER BY id",
        [orderId],
      )
    ).rows;
  const deadlines = async (orderId: string) =>
    (
      await h.db.query<{ kind: string }>('SELECT kind FROM saga_deadlines WHERE order_id = $1 ORDER BY kind', [orderId])
    ).rows.map((r) => r.kind);
  async function feed(orderId: string, steps: Step[]) {
    for (const s of steps)
      await handleSagaResult(deps, R[s](orderId), '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  }

  it('RESERVED + APPROVED → CONFIRMED (outbox ORDER_CONFIRMED caused by the last result), COMMITTED → COMPLETED', async () => {
    const o = await newOrder();
    const reserved = R.reserved(o);
    const approved = R.approved(o);
    await handleSagaResult(deps, reserved);
    await handleSagaResult(deps, approved, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(await status(o)).toBe('CONFIRMED');
    expect(await deadlines(o)).toEqual([]);
    const rows = await outbox(o);
    expect(rows.map((r) => r.routing_key)).toEqual(['order.created', 'order.confirmed']);
    expect(rows[1]?.envelope).toMatchObject({
      eventType: 'ORDER_CONFIRMED',
      causationId: approved.eventId,
      source: 'order',
      schemaVersion: 1,
      orderId: o,
      data: {},
    });
    expect(rows[1]?.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    // the recorded results keep their own ids and sources in the stream
    const stream = await readStream(h.db, `order-${o}`);
    expect(stream[1]).toMatchObject({ eventId: reserved.eventId, eventType: 'INVENTORY_RESERVED' });
    expect(stream[1]?.metadata).toMatchObject({ source: 'inventory' });
    await feed(o, ['committed']);
    expect(await status(o)).toBe('COMPLETED');
    expect(await streamTypes(o)).toEqual([
      'ORDER_CREATED',
      'INVENTORY_RESERVED',
      'PAYMENT_APPROVED',
      'ORDER_CONFIRMED',
      'INVENTORY_COMMITTED',
      'ORDER_COMPLETED',
    ]);
  });

  it.each([
    [
      ['failed', 'approved', 'refunded'],
      'COMPENSATED',
      [
        'order.created',
        'order.cancelled',
        'order.compensation.started',
        'order.payment.rollback.requested',
        'order.compensated',
      ],
    ],
    [
      ['approved', 'failed', 'refunded'],
      'COMPENSATED',
      [
        'order.created',
        'order.cancelled',
        'order.compensation.started',
        'order.payment.rollback.requested',
        'order.compensated',
      ],
    ],
    [
      ['reserved', 'declined', 'released'],
      'COMPENSATED',
      [
        'order.created',
        'order.cancelled',
        'order.compensation.started',
        'order.inventory.rollback.requested',
        'order.compensated',
      ],
    ],
    [
      ['declined', 'reserved', 'released'],
      'COMPENSATED',
      [
        'order.created',
        'order.cancelled',
        'order.compensation.started',
        'order.inventory.rollback.requested',
        'order.compensated',
      ],
    ],
    [['failed', 'declined'], 'CANCELLED', ['order.created', 'order.cancelled']],
    [['declined', 'failed'], 'CANCELLED', ['order.created', 'order.cancelled']],
  ] as [Step[], string, string[]][])('%j → %s with outbox %j', async (steps, final, published) => {
    const o = await newOrder();
    await feed(o, steps.slice(0, 1));
    // One answer, even a failure, decides nothing: PENDING, the saga deadline still stands.
    expect(await status(o)).toBe('PENDING');
    expect(await deadlines(o)).toEqual(['saga']);
    await feed(o, steps.slice(1));
    expect(await status(o)).toBe(final);
    expect((await outbox(o)).map((r) => r.routing_key)).toEqual(published);
    expect(await deadlines(o)).toEqual([]);
  });

  it('both sides failed: ORDER_CANCELLED requires nothing, the order is CANCELLED (final) and stray answers change nothing', async () => {
    const o = await newOrder();
    await feed(o, ['declined', 'failed']);
    const cancelled = (await outbox(o)).at(-1);
    expect(cancelled?.envelope).toMatchObject({
      eventType: 'ORDER_CANCELLED',
      data: {
        reasons: ['PAYMENT_INSUFFICIENT_FUNDS', 'INVENTORY_OUT_OF_STOCK: sku-1'],
        requiresRefund: false,
        requiresInventoryRollback: false,
      },
    });
    const view = await h.db.query('SELECT status, inventory_status, payment_status FROM orders WHERE order_id = $1', [
      o,
    ]);
    expect(view.rows[0]).toEqual({ status: 'CANCELLED', inventory_status: 'FAILED', payment_status: 'DECLINED' });
    await feed(o, ['refunded', 'released']);
    expect(await streamTypes(o)).toEqual([
      'ORDER_CREATED',
      'PAYMENT_DECLINED',
      'INVENTORY_RESERVATION_FAILED',
      'ORDER_CANCELLED',
    ]);
    await expect(cancelOrder(deps, o, 'customer')).rejects.toThrow();
  });

  it('a reservation that expired before the confirmation: INVENTORY_RELEASED on a CONFIRMED order → refund → COMPENSATED', async () => {
    const o = await newOrder();
    await feed(o, ['reserved', 'approved']);
    expect(await status(o)).toBe('CONFIRMED');
    const released = R.released(o);
    await handleSagaResult(deps, released);
    const rows = (await outbox(o)).slice(2);
    expect(rows.map((r) => r.routing_key)).toEqual([
      'order.cancelled',
      'order.compensation.started',
      'order.payment.rollback.requested',
    ]);
    expect(rows[0]?.envelope).toMatchObject({
      causationId: released.eventId,
      data: { reasons: ['RESERVATION_EXPIRED'], requiresRefund: true, requiresInventoryRollback: false },
    });
    expect(rows[2]?.envelope.data).toEqual({ amount: 3000, currency: 'EUR' });
    expect(await status(o)).toBe('COMPENSATION_PENDING');
    expect(await deadlines(o)).toEqual(['compensation']);
    // the answer to ORDER_CONFIRMED repeats the release: a duplicate
    await feed(o, ['released']);
    expect((await outbox(o)).length).toBe(5);
    await feed(o, ['refunded']);
    expect(await deadlines(o)).toEqual([]);
    const view = await h.db.query<Record<string, unknown>>(
      'SELECT status, inventory_status, payment_status, reasons FROM orders WHERE order_id = $1',
      [o],
    );
    expect(view.rows[0]).toEqual({
      status: 'COMPENSATED',
      inventory_status: 'RELEASED',
      payment_status: 'REFUNDED',
      reasons: ['RESERVATION_EXPIRED'],
    });
  });

  it('a duplicate result is a no-op, also when delivered concurrently', async () => {
    const o = await newOrder();
    const reserved = R.reserved(o);
    const results = await Promise.all(Array.from({ length: 5 }, () => handleSagaResult(deps, reserved)));
    expect(results.filter((r) => r && !r.duplicate && r.appended.length > 0)).toHaveLength(1);
    expect(await streamTypes(o)).toEqual(['ORDER_CREATED', 'INVENTORY_RESERVED']);
    // the same answer under another message id changes nothing either
    await feed(o, ['reserved']);
    expect(await streamTypes(o)).toEqual(['ORDER_CREATED', 'INVENTORY_RESERVED']);
    const inbox = await h.db.query('SELECT 1 FROM inbox WHERE consumer = $1 AND message_id = $2', [
      'order.saga',
      reserved.eventId,
    ]);
    expect(inbox.rowCount).toBe(1);
  });

  it('a contradictory result after CONFIRMED is not recorded and the order stays CONFIRMED', async () => {
    const o = await newOrder();
    await feed(o, ['reserved', 'approved', 'declined', 'failed']);
    expect(await status(o)).toBe('CONFIRMED');
    expect(await streamTypes(o)).toEqual([
      'ORDER_CREATED',
      'INVENTORY_RESERVED',
      'PAYMENT_APPROVED',
      'ORDER_CONFIRMED',
    ]);
  });

  it('customer cancel after CONFIRMED requests both rollbacks; COMPENSATED only after both acks', async () => {
    const o = await newOrder();
    await feed(o, ['reserved', 'approved']);
    await cancelOrder(deps, o, 'customer');
    expect(await deadlines(o)).toEqual(['compensation']);
    await feed(o, ['released']);
    expect(await status(o)).toBe('COMPENSATION_PENDING');
    await feed(o, ['refunded']);
    expect(await status(o)).toBe('COMPENSATED');
    expect(await deadlines(o)).toEqual([]);
  });

  it('the saga timeout fires once with two pollers on two connections; compensation timeout and retry', async () => {
    const second = await openDatabase({ url: h.url, name: 'order', migrations: orderMigrations });
    try {
      const ids = await Promise.all(Array.from({ length: 20 }, () => newOrder()));
      await feed(ids[0] as string, ['reserved', 'approved']); // CONFIRMED: its deadline is gone, must not fire
      const later = new Date(Date.now() + deps.sagaTimeoutMs + 1000);
      const p1 = { ...deps, now: () => later };
      const p2 = { ...deps, db: second, now: () => later };
      const countCancels = async () =>
        Number(
          (await h.db.query<{ n: string }>("SELECT count(*) AS n FROM events WHERE event_type = 'ORDER_CANCELLED'"))
            .rows[0]?.n,
        );
      const cancelsBefore = await countCancels();
      const fired = await Promise.all([
        fireDueDeadlines(p1),
        fireDueDeadlines(p2),
        fireDueDeadlines(p1),
        fireDueDeadlines(p2),
      ]);
      // every deadline fired (also those of earlier tests' pending orders), each exactly once
      const firedTotal = fired.reduce((a, b) => a + b, 0);
      expect(firedTotal).toBeGreaterThanOrEqual(19);
      expect((await countCancels()) - cancelsBefore).toBe(firedTotal);
      const twice = await h.db.query(
        "SELECT stream_id FROM events WHERE event_type = 'ORDER_CANCELLED' GROUP BY stream_id HAVING count(*) > 1",
      );
      expect(twice.rows).toEqual([]);
      const cancels = await h.db.query<{ stream_id: string; n: string }>(
        "SELECT stream_id, count(*) AS n FROM events WHERE event_type = 'ORDER_CANCELLED' AND stream_id = ANY($1) GROUP BY stream_id",
        [ids.map((i) => `order-${i}`)],
      );
      expect(cancels.rows).toHaveLength(19);
      expect(cancels.rows.every((r) => Number(r.n) === 1)).toBe(true);
      expect(await status(ids[0] as string)).toBe('CONFIRMED');
      const o = ids[1] as string;
      expect(await status(o)).toBe('COMPENSATION_PENDING');
      expect(await deadlines(o)).toEqual(['compensation']);
      // nothing more is due at that time: a second round fires nothing
      expect(await fireDueDeadlines(p1)).toBe(0);

      await feed(o, ['released']);
      const muchLater = new Date(later.getTime() + deps.compensationTimeoutMs + 1000);
      await fireDueDeadlines({ ...deps, now: () => muchLater });
      expect(await status(o)).toBe('COMPENSATION_FAILED');
      const view = await h.db.query<{ reasons: string[] }>('SELECT reasons FROM orders WHERE order_id = $1', [o]);
      expect(view.rows[0]?.reasons).toContain('COMPENSATION_TIMEOUT: payment refund not acknowledged');
      await retryCompensation(deps, o);
      expect(await status(o)).toBe('COMPENSATION_PENDING');
      expect((await outbox(o)).map((r) => r.routing_key).slice(-2)).toEqual([
        'order.compensation.started',
        'order.payment.rollback.requested',
      ]);
      await feed(o, ['refunded']);
      expect(await status(o)).toBe('COMPENSATED');
    } finally {
      await second.close();
    }
  });

  it('a first failure waits for the other side; the saga deadline cancels it, refunding only the side that may hold something', async () => {
    const o = await newOrder();
    await feed(o, ['failed']);
    expect(await deadlines(o)).toEqual(['saga']);
    const later = new Date(Date.now() + deps.sagaTimeoutMs + 1000);
    await fireDueDeadlines({ ...deps, now: () => later });
    expect(await status(o)).toBe('COMPENSATION_PENDING');
    expect(await deadlines(o)).toEqual(['compensation']);
    const rows = (await outbox(o)).slice(1);
    expect(rows.map((r) => r.routing_key)).toEqual([
      'order.cancelled',
      'order.compensation.started',
      'order.payment.rollback.requested',
    ]);
    expect(rows[0]?.envelope.data).toEqual({
      reasons: ['INVENTORY_OUT_OF_STOCK: sku-1', 'SAGA_TIMEOUT: no answer from every service in time'],
      requiresRefund: true,
      requiresInventoryRollback: false,
    });
    // the late payment answer is a decline: nothing was taken, so the compensation is complete
    await feed(o, ['declined']);
    expect(await status(o)).toBe('COMPENSATED');
    expect(await deadlines(o)).toEqual([]);
  });

  it('replay projections rebuilds the read model from the event store', async () => {
    const o = await newOrder();
    await feed(o, ['reserved', 'approved']);
    const before = (await h.db.query('SELECT * FROM orders ORDER BY order_id')).rows;
    await h.db.query("UPDATE orders SET status = 'PENDING', version = 1 WHERE order_id = $1", [o]);
    await h.db.query('DELETE FROM orders WHERE order_id IN (SELECT order_id FROM orders ORDER BY order_id LIMIT 2)');
    const n = await rebuildOrderProjections(h.db);
    expect(n).toBe(before.length);
    expect((await h.db.query('SELECT * FROM orders ORDER BY order_id')).rows).toEqual(before);
  });

  it('start(): the saga consumes results from the bus (partitioned) and the deadline poller runs', async () => {
    const fast = await orderHarness({ SAGA_TIMEOUT_MS: '300', ORDER_PARTITIONS: '4' });
    const running = await orderService.start(fast.ctx);
    try {
      const placed = await placeOrder(fast.deps, { principalSub: 'a', customerId: 'a', currency: 'EUR', items });
      const o = placed.kind === 'created' ? placed.order.orderId : '';
      await fast.ctx.bus.publish(
        [R.reserved(o), R.approved(o)].map((envelope) => ({
          exchange: envelope.source === 'inventory' ? 'inventory_events' : 'payment_events',
          routingKey: envelope.eventType.toLowerCase().replaceAll('_', '.'),
          envelope,
        })),
      );
      const q = async (id: string) =>
        (await fast.db.query<{ status: string }>('SELECT status FROM orders WHERE order_id = $1', [id])).rows[0]
          ?.status;
      expect(await q(o)).toBe('CONFIRMED');
      // an order nobody answers is cancelled by the poller after SAGA_TIMEOUT_MS
      const lonely = await placeOrder(fast.deps, { principalSub: 'a', customerId: 'a', currency: 'EUR', items });
      const l = lonely.kind === 'created' ? lonely.order.orderId : randomUUID();
      await waitFor(async () => (await q(l)) === 'COMPENSATION_PENDING', { what: 'saga timeout', timeoutMs: 10_000 });
    } finally {
      await running.stop();
      await fast.close();
    }
  });
});
