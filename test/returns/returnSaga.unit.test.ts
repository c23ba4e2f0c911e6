/**
 * The return saga through all three deciders (issue 21): the order's (request and reaction to answers), inventory's
 * restock and payment's partial refund, with every message delivered in a random order, late, and several times.
 * Whatever the order of arrival, every return ends as the rule table says, stock and money move exactly once per
 * return, and refunds never exceed what was paid.
 */
import type { Envelope } from '@commerce/contracts';
import { decideReturnRestock, type ProductStock, type RestockState, type ReturnRestock } from '@commerce/inventory';
import {
  decideReturn,
  decideReturnResult,
  fold,
  isReturnResult,
  type OrderStreamEvent,
  ReturnExceedsRemainingError,
  type ReturnResultReceived,
} from '@commerce/order';
import { decidePartialRefund, type PartialRefundState, type Payment, type ReturnRefund } from '@commerce/payment';
import { describe, expect, it } from 'vitest';
import { prng } from '../support/random.js';

const ORDER = '0b9b7a3e-2f0c-4d7e-9a38-1c2d3e4f5a6b';
const NOW = '2026-03-01T10:00:00.000Z';
const lines = [
  { productId: 'p-1', quantity: 3, unitPrice: 1250 },
  { productId: 'p-2', quantity: 2, unitPrice: 499 },
];
const at = (type: OrderStreamEvent['type'], data: unknown = {}) =>
  ({ type, data, occurredAt: NOW }) as OrderStreamEvent;
const completedOrder: OrderStreamEvent[] = [
  at('ORDER_CREATED', { customerId: 'c-1', currency: 'EUR', items: lines, totalAmount: 4748 }),
  at('INVENTORY_RESERVED', { items: lines }),
  at('PAYMENT_APPROVED', { amount: 4748, currency: 'EUR' }),
  at('ORDER_CONFIRMED'),
  at('INVENTORY_COMMITTED'),
  at('ORDER_COMPLETED'),
];

type Message = Pick<Envelope, 'eventId' | 'eventType' | 'data'>;

/** The three participants' states, and each one's inbox (a message applied once, as the kernel's inbox does). */
function world(o: { productMissing?: string } = {}) {
  const products = new Map<string, ProductStock>(
    lines
      .filter((l) => l.productId !== o.productMissing)
      .map((l) => [
        l.productId,
        {
          productId: l.productId,
          unitPrice: l.unitPrice,
          currency: 'EUR',
          available: 10,
          reserved: 0,
          sold: l.quantity,
        },
      ]),
  );
  const payment: Payment = {
    customerId: 'c-1',
    amount: 4748,
    currency: 'EUR',
    status: 'APPROVED',
    reason: null,
    refundedAmount: 0,
    updatedAt: new Date(NOW),
  };
  return {
    stream: [...completedOrder],
    inventory: {
      reservation: { status: 'COMMITTED', lines, expiresAt: new Date(NOW) },
      restocks: new Map<string, ReturnRestock>(),
      products,
    } as RestockState & { restocks: Map<string, ReturnRestock>; products: Map<string, ProductStock> },
    payment: { payment, refunds: new Map<string, ReturnRefund>() } as PartialRefundState & {
      refunds: Map<string, ReturnRefund>;
    },
    balance: 0,
    inboxes: { order: new Set<string>(), inventory: new Set<string>(), payment: new Set<string>() },
    seq: 0,
  };
}
type World = ReturnType<typeof world>;

const message = (w: World, eventType: string, data: unknown): Message => ({
  eventId: `m-${++w.seq}`,
  eventType,
  data,
});

/** Delivers one message to whoever is bound to it; answers the messages it causes. */
function deliver(w: World, m: Message): Message[] {
  const out: Message[] = [];
  if (m.eventType === 'ORDER_RETURN_REQUESTED' && !w.inboxes.inventory.has(m.eventId)) {
    w.inboxes.inventory.add(m.eventId);
    const d = m.data as { returnId: string; items: typeof lines };
    const decision = decideReturnRestock({ type: 'restock', returnId: d.returnId, items: d.items }, w.inventory);
    for (const c of decision.stock) {
      const p = w.inventory.products.get(c.productId)!;
      w.inventory.products.set(c.productId, {
        ...p,
        available: p.available + c.deltaAvailable,
        sold: p.sold + c.deltaSold,
      });
    }
    if (decision.restock) w.inventory.restocks.set(d.returnId, decision.restock);
    out.push(message(w, decision.reply.eventType, decision.reply.data));
  }
  if (m.eventType === 'ORDER_RETURN_REFUND_REQUESTED' && !w.inboxes.payment.has(m.eventId)) {
    w.inboxes.payment.add(m.eventId);
    const d = m.data as { returnId: string; customerId: string; amount: number; currency: string };
    const decision = decidePartialRefund({ type: 'partialRefund', ...d }, w.payment, new Date(NOW));
    if (decision.balance) w.balance += decision.balance.delta;
    if (decision.payment) w.payment.payment = decision.payment;
    if (decision.refund) w.payment.refunds.set(d.returnId, decision.refund);
    out.push(message(w, decision.reply.eventType, decision.reply.data));
  }
  if (isReturnResult(m.eventType) && !w.inboxes.order.has(m.eventId)) {
    w.inboxes.order.add(m.eventId);
    const cmd = { type: 'ReturnResultReceived', orderId: ORDER, eventType: m.eventType, data: m.data };
    const events = decideReturnResult(cmd as ReturnResultReceived, fold(w.stream), NOW);
    w.stream.push(...events);
    for (const e of events) if (e.type.startsWith('ORDER_')) out.push(message(w, e.type, e.data));
  }
  return out;
}

/** Requests the returns, then delivers every message in a random order, each one 1–3 times, some late. */
function play(
  w: World,
  requests: { returnId: string; items: { productId: string; quantity: number }[] }[],
  seed: number,
) {
  const random = prng(seed);
  const bag: Message[] = [];
  const refused: string[] = [];
  for (const r of requests) {
    try {
      const events = decideReturn({ type: 'RequestReturn', orderId: ORDER, ...r }, fold(w.stream), NOW);
      w.stream.push(...events);
      for (const e of events) bag.push(message(w, e.type, e.data));
    } catch (err) {
      if (!(err instanceof ReturnExceedsRemainingError)) throw err;
      refused.push(r.returnId);
    }
  }
  while (bag.length > 0) {
    const [m] = bag.splice(Math.floor(random() * bag.length), 1) as [Message];
    bag.push(...deliver(w, m));
    // A redelivery of the same message (same eventId), now or later.
    if (random() < 0.4) bag.push(m);
  }
  return { state: fold(w.stream), refused };
}

const rid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('return saga through the order, inventory and payment deciders', () => {
  it.each(Array.from({ length: 40 }, (_, i) => i + 1))(
    'seed %i: every return completes, stock and money move once per return, refunds ≤ paid',
    (seed) => {
      const w = world();
      const { state, refused } = play(
        w,
        [
          { returnId: rid(1), items: [{ productId: 'p-1', quantity: 1 }] },
          {
            returnId: rid(2),
            items: [
              { productId: 'p-1', quantity: 1 },
              { productId: 'p-2', quantity: 2 },
            ],
          },
          // Over the limit: 1 of p-1 is left.
          { returnId: rid(3), items: [{ productId: 'p-1', quantity: 2 }] },
          { returnId: rid(4), items: [{ productId: 'p-1', quantity: 1 }] },
        ],
        seed,
      );
      expect(refused).toEqual([rid(3)]);
      expect(state.returns.map((r) => r.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
      expect(state.status).toBe('COMPLETED');
      // Every unit back, to the unit; every cent back, to the cent.
      expect(w.inventory.products.get('p-1')).toMatchObject({ available: 13, sold: 0 });
      expect(w.inventory.products.get('p-2')).toMatchObject({ available: 12, sold: 0 });
      expect(w.balance).toBe(4748);
      expect(w.payment.payment?.refundedAmount).toBe(4748);
      const ends = state.returns.map(
        (r) =>
          w.stream.filter(
            (e) => e.type === 'ORDER_RETURN_COMPLETED' && (e.data as { returnId: string }).returnId === r.returnId,
          ).length,
      );
      expect(ends).toEqual([1, 1, 1]);
    },
  );

  it.each(Array.from({ length: 20 }, (_, i) => i + 1))(
    'seed %i: a return whose product is gone fails with its reason, and no money moves',
    (seed) => {
      const w = world({ productMissing: 'p-2' });
      const { state } = play(
        w,
        [
          { returnId: rid(1), items: [{ productId: 'p-2', quantity: 1 }] },
          { returnId: rid(2), items: [{ productId: 'p-1', quantity: 2 }] },
        ],
        seed,
      );
      expect(state.returns.map((r) => [r.status, r.reasons])).toEqual([
        ['FAILED', ['RESTOCK_UNKNOWN_PRODUCT: p-2']],
        ['COMPLETED', []],
      ]);
      expect(w.payment.refunds.has(rid(1))).toBe(false);
      expect(w.balance).toBe(2500);
      expect(w.inventory.products.get('p-1')).toMatchObject({ available: 12, sold: 1 });
    },
  );
});

describe('the participants refuse what would break conservation', () => {
  it('inventory never restocks more than it sold to the order, whatever the order service asks', () => {
    const w = world();
    const big = {
      type: 'restock' as const,
      returnId: rid(9),
      items: [{ productId: 'p-1', quantity: 4, unitPrice: 1250 }],
    };
    const d = decideReturnRestock(big, w.inventory);
    expect(d.reply).toEqual({
      eventType: 'INVENTORY_RETURN_RESTOCK_FAILED',
      data: { returnId: rid(9), reason: 'EXCEEDS_SOLD', productIds: ['p-1'] },
    });
    expect(d.stock).toEqual([]);
    const notSold = decideReturnRestock(big, { ...w.inventory, reservation: null });
    expect(notSold.reply.data).toMatchObject({ reason: 'NOT_SOLD' });
  });

  it('payment never refunds more than was paid, nor in another currency, nor an unpaid order', () => {
    const w = world();
    const ask = { type: 'partialRefund' as const, returnId: rid(9), customerId: 'c-1', amount: 4749, currency: 'EUR' };
    expect(decidePartialRefund(ask, w.payment, new Date(NOW)).reply.data).toMatchObject({ reason: 'EXCEEDS_PAID' });
    expect(
      decidePartialRefund({ ...ask, amount: 1, currency: 'USD' }, w.payment, new Date(NOW)).reply.data,
    ).toMatchObject({
      reason: 'CURRENCY_MISMATCH',
    });
    expect(
      decidePartialRefund({ ...ask, amount: 1 }, { ...w.payment, payment: null }, new Date(NOW)).reply.data,
    ).toMatchObject({
      reason: 'NOT_PAID',
    });
    const ok = decidePartialRefund({ ...ask, amount: 4748 }, w.payment, new Date(NOW));
    expect(ok.balance).toMatchObject({ customerId: 'c-1', kind: 'return_refund', delta: 4748 });
    // The same return asked again answers the same, and moves nothing.
    const again = decidePartialRefund(
      { ...ask, amount: 4748 },
      { payment: ok.payment!, refunds: new Map([[rid(9), ok.refund!]]) },
      new Date(NOW),
    );
    expect(again).toEqual({ reply: ok.reply });
  });
});
