import { describe, expect, it } from 'vitest';
import {
  decideReturn,
  decideReturnResult,
  fold,
  InvalidOrderError,
  isFinal,
  OrderNotReturnableError,
  type OrderState,
  type OrderStreamEvent,
  type RequestReturn,
  ReturnExceedsRemainingError,
  type ReturnResultReceived,
  returnableQuantities,
  returnedSummary,
  returnStatusOf,
} from './index.js';

const ORDER = '0b9b7a3e-2f0c-4d7e-9a38-1c2d3e4f5a6b';
const RET = '11111111-2222-4333-8444-555555555555';
const RET2 = '11111111-2222-4333-8444-666666666666';
const NOW = '2026-03-01T10:00:00.000Z';
const items = [
  { productId: 'p-1', quantity: 2, unitPrice: 1250 },
  { productId: 'p-2', quantity: 1, unitPrice: 500 },
];
const at = (type: OrderStreamEvent['type'], data: unknown = {}) =>
  ({ type, data, occurredAt: NOW }) as OrderStreamEvent;
const completed: OrderStreamEvent[] = [
  at('ORDER_CREATED', { customerId: 'c-1', currency: 'EUR', items, totalAmount: 3000 }),
  at('INVENTORY_RESERVED', { items }),
  at('PAYMENT_APPROVED', { amount: 3000, currency: 'EUR' }),
  at('ORDER_CONFIRMED'),
  at('INVENTORY_COMMITTED'),
  at('ORDER_COMPLETED'),
];
const request = (returnId: string, lines: RequestReturn['items']): RequestReturn => ({
  type: 'RequestReturn',
  orderId: ORDER,
  returnId,
  items: lines,
  reason: 'too small',
});
const result = (eventType: ReturnResultReceived['eventType'], data: object): ReturnResultReceived =>
  ({ type: 'ReturnResultReceived', orderId: ORDER, eventType, data }) as ReturnResultReceived;

const A = {
  restocked: (returnId = RET) =>
    result('INVENTORY_RETURN_RESTOCKED', { returnId, items: [{ productId: 'p-1', quantity: 1, unitPrice: 1250 }] }),
  restockFailed: (returnId = RET) =>
    result('INVENTORY_RETURN_RESTOCK_FAILED', { returnId, reason: 'UNKNOWN_PRODUCT', productIds: ['p-1'] }),
  refunded: (returnId = RET) => result('PAYMENT_PARTIALLY_REFUNDED', { returnId, amount: 1250, currency: 'EUR' }),
  refundFailed: (returnId = RET) => result('PAYMENT_PARTIAL_REFUND_FAILED', { returnId, reason: 'EXCEEDS_PAID' }),
};

/** A completed order with one return of 1 × p-1 requested, then `answers` fed one after the other. */
function run(answers: readonly ReturnResultReceived[], history: OrderStreamEvent[] = completed) {
  const stream = [...history];
  stream.push(...decideReturn(request(RET, [{ productId: 'p-1', quantity: 1 }]), fold(stream), NOW));
  for (const a of answers) stream.push(...decideReturnResult(a, fold(stream), NOW));
  const state = fold(stream);
  return { stream, state, ret: state.returns[0], types: stream.slice(completed.length).map((e) => e.type) };
}

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('return request (decideReturn)', () => {
  const state = fold(completed);
  it('records ORDER_RETURN_REQUESTED at the prices the order paid, with the id given', () => {
    const events = decideReturn(
      request(RET, [
        { productId: 'p-1', quantity: 2 },
        { productId: 'p-2', quantity: 1 },
      ]),
      state,
      NOW,
    );
    expect(events).toEqual([
      at('ORDER_RETURN_REQUESTED', {
        returnId: RET,
        customerId: 'c-1',
        currency: 'EUR',
        items: [
          { productId: 'p-1', quantity: 2, unitPrice: 1250 },
          { productId: 'p-2', quantity: 1, unitPrice: 500 },
        ],
        amount: 3000,
        reason: 'too small',
      }),
    ]);
    // The order's status stays COMPLETED (final, SPEC §6).
    expect(fold(events, state).status).toBe('COMPLETED');
    expect(isFinal(fold(events, state))).toBe(true);
  });

  it.each(['PENDING', 'CONFIRMED', 'CANCELLED', 'COMPENSATED'])('refuses a return of a %s order', (status) => {
    expect(() =>
      decideReturn(request(RET, [{ productId: 'p-1', quantity: 1 }]), { ...state, status } as OrderState, NOW),
    ).toThrow(OrderNotReturnableError);
  });

  it.each([
    ['a product not in the order', [{ productId: 'p-9', quantity: 1 }], '/items/0/productId'],
    [
      'a duplicate line',
      [
        { productId: 'p-1', quantity: 1 },
        { productId: 'p-1', quantity: 1 },
      ],
      '/items/1/productId',
    ],
    ['quantity 0', [{ productId: 'p-1', quantity: 0 }], '/items/0/quantity'],
    ['no lines', [], '/items'],
  ])('rejects %s, naming the field', (_n, lines, field) => {
    try {
      decideReturn(request(RET, lines), state, NOW);
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidOrderError);
      expect((err as InvalidOrderError).errors.map((e) => e.field)).toContain(field);
    }
  });

  it('allows several returns up to the units bought; more answers what can still be returned', () => {
    const first = decideReturn(request(RET, [{ productId: 'p-1', quantity: 1 }]), state, NOW);
    const after = fold(first, state);
    expect(returnableQuantities(after)).toEqual([
      { productId: 'p-1', quantity: 1 },
      { productId: 'p-2', quantity: 1 },
    ]);
    try {
      decideReturn(request(RET2, [{ productId: 'p-1', quantity: 2 }]), after, NOW);
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(ReturnExceedsRemainingError);
      expect((err as ReturnExceedsRemainingError).returnable).toEqual([
        { productId: 'p-1', quantity: 1 },
        { productId: 'p-2', quantity: 1 },
      ]);
      expect((err as ReturnExceedsRemainingError).productIds).toEqual(['p-1']);
    }
    expect(decideReturn(request(RET2, [{ productId: 'p-1', quantity: 1 }]), after, NOW)).toHaveLength(1);
  });

  it('the same return id again changes nothing', () => {
    const first = decideReturn(request(RET, [{ productId: 'p-1', quantity: 1 }]), state, NOW);
    expect(decideReturn(request(RET, [{ productId: 'p-1', quantity: 1 }]), fold(first, state), NOW)).toEqual([]);
  });

  it('a return that failed before its restock frees its units; one failed after its restock keeps them', () => {
    const failedBefore = run([A.restockFailed()]).state;
    expect(returnableQuantities(failedBefore)[0]).toEqual({ productId: 'p-1', quantity: 2 });
    const failedAfter = run([A.restocked(), A.refundFailed()]).state;
    expect(returnableQuantities(failedAfter)[0]).toEqual({ productId: 'p-1', quantity: 1 });
  });
});

interface Row {
  name: string;
  answers: ReturnResultReceived[];
  status: 'COMPLETED' | 'FAILED';
  restocked: boolean;
  refunded: boolean | null;
  refundedAmount: number;
  reasons: string[];
}
/** The saga rule table for returns (saga-protocol.md "Returns"): restock first, refund after, then complete. */
const ROWS: Row[] = [
  {
    name: 'RESTOCKED + PARTIALLY_REFUNDED',
    answers: [A.restocked(), A.refunded()],
    status: 'COMPLETED',
    restocked: true,
    refunded: true,
    refundedAmount: 1250,
    reasons: [],
  },
  {
    name: 'RESTOCK_FAILED (no refund asked: no money moves)',
    answers: [A.restockFailed()],
    status: 'FAILED',
    restocked: false,
    refunded: null,
    refundedAmount: 0,
    reasons: ['RESTOCK_UNKNOWN_PRODUCT: p-1'],
  },
  {
    name: 'RESTOCKED + PARTIAL_REFUND_FAILED',
    answers: [A.restocked(), A.refundFailed()],
    status: 'FAILED',
    restocked: true,
    refunded: false,
    refundedAmount: 0,
    reasons: ['REFUND_EXCEEDS_PAID'],
  },
];

describe.each(ROWS)('return saga: row $name', (row) => {
  const orders = permutations(row.answers).map((p) => [p.map((a) => a.eventType).join(' then '), p] as const);

  it('in protocol order: the refund is asked only after the restock, and the return ends as the row says', () => {
    const r = run(row.answers);
    expect(r.ret).toMatchObject({ status: row.status, restocked: row.restocked, refunded: row.refunded });
    expect(r.ret?.reasons).toEqual(row.reasons);
    const refundAsked = r.types.indexOf('ORDER_RETURN_REFUND_REQUESTED');
    if (row.restocked) expect(refundAsked).toBeGreaterThan(r.types.indexOf('INVENTORY_RETURN_RESTOCKED'));
    else expect(refundAsked).toBe(-1);
    if (refundAsked >= 0)
      expect(r.stream.find((e) => e.type === 'ORDER_RETURN_REFUND_REQUESTED')?.data).toEqual({
        returnId: RET,
        customerId: 'c-1',
        amount: 1250,
        currency: 'EUR',
      });
    expect(r.types.at(-1)).toBe(row.status === 'COMPLETED' ? 'ORDER_RETURN_COMPLETED' : 'ORDER_RETURN_FAILED');
  });

  it.each(orders)('%s: every arrival order ends the same', (_n, answers) => {
    const r = run(answers);
    expect(r.ret).toMatchObject({ status: row.status, restocked: row.restocked, refunded: row.refunded });
    expect(returnedSummary(r.state.returns).refundedAmount).toBe(row.refundedAmount);
    const ends = r.types.filter((t) => t === 'ORDER_RETURN_COMPLETED' || t === 'ORDER_RETURN_FAILED');
    expect(ends).toHaveLength(1);
    expect(r.types.filter((t) => t === 'ORDER_RETURN_REFUND_REQUESTED').length).toBeLessThanOrEqual(1);
    expect(r.state.status).toBe('COMPLETED');
  });

  it.each(orders)('%s: a duplicate of any answer at any later point changes nothing', (_n, answers) => {
    const reference = run(answers);
    for (let i = 0; i < answers.length; i++)
      for (let pos = i + 1; pos <= answers.length; pos++) {
        const withDup = [...answers.slice(0, pos), answers[i] as ReturnResultReceived, ...answers.slice(pos)];
        expect(run(withDup).stream, `duplicate of #${i} at ${pos}`).toEqual(reference.stream);
      }
  });

  it.each(orders)('%s: a contradictory late answer is ignored (the first of each side counts)', (_n, answers) => {
    const reference = run(answers);
    const contradictions = [A.restocked(), A.restockFailed(), A.refunded(), A.refundFailed()].filter(
      (a) => !answers.some((x) => x.eventType === a.eventType),
    );
    const sideAnswered = (a: ReturnResultReceived) =>
      answers.some((x) => x.eventType.split('_')[0] === a.eventType.split('_')[0]);
    for (const c of contradictions.filter(sideAnswered)) expect(run([...answers, c]).stream).toEqual(reference.stream);
  });
});

describe('return saga: answers about no known return', () => {
  it('are not recorded (e.g. for another order)', () => {
    const s = run([]).state;
    expect(decideReturnResult(A.restocked(RET2), s, NOW)).toEqual([]);
    expect(decideReturnResult(A.refunded(RET2), s, NOW)).toEqual([]);
  });
});

describe('return status of the order', () => {
  it('NONE, then PARTIALLY_RETURNED, then RETURNED once every unit bought is back', () => {
    const one = run([A.restocked(), A.refunded()]);
    expect(returnStatusOf(items, fold(completed).returns)).toBe('NONE');
    expect(returnStatusOf(items, one.state.returns)).toBe('PARTIALLY_RETURNED');
    const stream = [...one.stream];
    const rest = [
      { productId: 'p-1', quantity: 1 },
      { productId: 'p-2', quantity: 1 },
    ];
    stream.push(...decideReturn(request(RET2, rest), fold(stream), NOW));
    const restItems = rest.map((l) => ({ ...l, unitPrice: l.productId === 'p-1' ? 1250 : 500 }));
    stream.push(
      ...decideReturnResult(
        result('INVENTORY_RETURN_RESTOCKED', { returnId: RET2, items: restItems }),
        fold(stream),
        NOW,
      ),
    );
    stream.push(
      ...decideReturnResult(
        result('PAYMENT_PARTIALLY_REFUNDED', { returnId: RET2, amount: 1750, currency: 'EUR' }),
        fold(stream),
        NOW,
      ),
    );
    const s = fold(stream);
    expect(returnStatusOf(items, s.returns)).toBe('RETURNED');
    expect(returnedSummary(s.returns)).toEqual({
      returned: [
        { productId: 'p-1', quantity: 2 },
        { productId: 'p-2', quantity: 1 },
      ],
      refundedAmount: 3000,
    });
    expect(returnableQuantities(s).every((r) => r.quantity === 0)).toBe(true);
    expect(s.status).toBe('COMPLETED');
  });
});
