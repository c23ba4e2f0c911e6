/**
 * The saga's rule table extended with the risk step's outcomes (docs/risk.md, saga-protocol.md "Risk review"): each
 * row through the deciders, with every arrival order of the results before and after the decision, and with every
 * message delivered twice.
 */
import { describe, expect, it } from 'vitest';
import {
  decideSaga,
  fold,
  inventoryStatusOf,
  OrderNotCancellableError,
  OrderNotUnderReviewError,
  type OrderStreamEvent,
  paymentStatusOf,
  REVIEW_TIMEOUT_REASON,
  type ResultReceived,
  reviewRejectedReason,
  type SagaCommand,
} from './index.js';

const ORDER = '6a1f3c2e-0b9d-4e8f-a7c6-5d4e3f2a1b0c';
const NOW = '2026-03-01T10:00:00.000Z';
const REVIEW_MS = 60_000;
const items = [{ productId: 'p-1', quantity: 2, unitPrice: 1500 }];
const created: OrderStreamEvent = {
  type: 'ORDER_CREATED',
  occurredAt: NOW,
  data: { customerId: 'c-1', currency: 'EUR', items, totalAmount: 3000 },
};
const RISK_REASONS = ['RISK_AMOUNT: total 3000 over 2000'];
const result = (eventType: ResultReceived['eventType'], data: unknown) =>
  ({ type: 'ResultReceived', orderId: ORDER, eventType, data }) as ResultReceived;
const R = {
  review: result('PAYMENT_REVIEW_REQUIRED', { score: 60, reasons: RISK_REASONS }),
  reserved: result('INVENTORY_RESERVED', { items }),
  failed: result('INVENTORY_RESERVATION_FAILED', { reason: 'OUT_OF_STOCK', productIds: ['p-1'] }),
  approved: result('PAYMENT_APPROVED', { amount: 3000, currency: 'EUR' }),
  declined: result('PAYMENT_DECLINED', { reason: 'INSUFFICIENT_FUNDS' }),
  riskRejected: result('PAYMENT_DECLINED', {
    reason: 'RISK_REJECTED',
    riskReasons: ['RISK_AMOUNT: total 3000 over 2000', 'RISK_FIRST_ORDER: first order of c-1 totals 3000, over 1000'],
  }),
  committed: result('INVENTORY_COMMITTED', {}),
  released: result('INVENTORY_RELEASED', {}),
  refunded0: result('PAYMENT_REFUNDED', { amount: 0, currency: 'EUR' }),
};
const approve: SagaCommand = { type: 'ReviewDecision', orderId: ORDER, decision: 'approve', by: 'admin-1' };
const reject: SagaCommand = { type: 'ReviewDecision', orderId: ORDER, decision: 'reject', by: 'admin-1' };
const timeout: SagaCommand = { type: 'SagaTimeout', orderId: ORDER };

function run(commands: readonly SagaCommand[]) {
  const stream: OrderStreamEvent[] = [created];
  for (const c of commands) stream.push(...decideSaga(c, fold(stream), NOW, { reviewTimeoutMs: REVIEW_MS }));
  return { stream, state: fold(stream), types: stream.map((e) => e.type) };
}
function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}
/** Every order of the messages, each delivered once; and each delivered twice in a row; and the whole set twice. */
function arrivals(xs: readonly SagaCommand[]): SagaCommand[][] {
  return permutations(xs).flatMap((p) => [p, p.flatMap((c) => [c, c]), [...p, ...p]]);
}
/** In this order, once, each twice in a row, and the whole sequence twice. */
const duplicated = (xs: readonly SagaCommand[]) => [[...xs], xs.flatMap((c) => [c, c]), [...xs, ...xs]];
const label = (cs: readonly SagaCommand[]) =>
  cs.map((c) => (c.type === 'ResultReceived' ? c.eventType : c.type)).join(', ') || 'nothing';

interface Row {
  name: string;
  /** Results before a decision, in any order. */
  before: SagaCommand[];
  /** Status once they are in. */
  waiting: string;
  decision?: SagaCommand;
  /** Results after the decision, in any order (unless `causal`: each answers the one before, so in this order). */
  after: SagaCommand[];
  causal?: boolean;
  final: string;
  sides: [string, string];
  reasons: string[];
  /** ORDER_* events of the whole run, in order (duplicates must add none). */
  orderEvents: string[];
  /** ORDER_* events that some arrival orders add (compared without them). */
  mayAlsoHave?: string[];
}
const UNDO = ['ORDER_CANCELLED', 'ORDER_COMPENSATION_STARTED', 'ORDER_PAYMENT_ROLLBACK_REQUESTED'];
const ROWS: Row[] = [
  {
    name: 'REVIEW + RESERVED, approved by an admin, captured',
    before: [R.review, R.reserved],
    waiting: 'UNDER_REVIEW',
    decision: approve,
    after: [R.approved, R.committed],
    causal: true,
    final: 'COMPLETED',
    sides: ['COMMITTED', 'APPROVED'],
    reasons: [],
    orderEvents: ['ORDER_CREATED', 'ORDER_UNDER_REVIEW', 'ORDER_REVIEW_APPROVED', 'ORDER_CONFIRMED', 'ORDER_COMPLETED'],
  },
  {
    name: 'REVIEW + RESERVED, approved, capture declined (balance spent meanwhile)',
    before: [R.review, R.reserved],
    waiting: 'UNDER_REVIEW',
    decision: approve,
    after: [R.declined, R.released],
    causal: true,
    final: 'COMPENSATED',
    sides: ['RELEASED', 'DECLINED'],
    reasons: ['PAYMENT_INSUFFICIENT_FUNDS'],
    orderEvents: [
      'ORDER_CREATED',
      'ORDER_UNDER_REVIEW',
      'ORDER_REVIEW_APPROVED',
      'ORDER_CANCELLED',
      'ORDER_COMPENSATION_STARTED',
      'ORDER_INVENTORY_ROLLBACK_REQUESTED',
      'ORDER_COMPENSATED',
    ],
  },
  {
    name: 'REVIEW + RESERVED, rejected by an admin',
    before: [R.review, R.reserved],
    waiting: 'UNDER_REVIEW',
    decision: reject,
    after: [R.refunded0, R.released],
    final: 'COMPENSATED',
    sides: ['RELEASED', 'REFUNDED'],
    reasons: [reviewRejectedReason('admin-1'), ...RISK_REASONS],
    orderEvents: [
      'ORDER_CREATED',
      'ORDER_UNDER_REVIEW',
      'ORDER_REVIEW_REJECTED',
      ...UNDO,
      'ORDER_INVENTORY_ROLLBACK_REQUESTED',
      'ORDER_COMPENSATED',
    ],
  },
  {
    name: 'REVIEW + RESERVED, no decision before REVIEW_TIMEOUT_MS',
    before: [R.review, R.reserved],
    waiting: 'UNDER_REVIEW',
    decision: timeout,
    after: [R.refunded0, R.released],
    final: 'COMPENSATED',
    sides: ['RELEASED', 'REFUNDED'],
    reasons: [REVIEW_TIMEOUT_REASON, ...RISK_REASONS],
    orderEvents: [
      'ORDER_CREATED',
      'ORDER_UNDER_REVIEW',
      'ORDER_REVIEW_REJECTED',
      ...UNDO,
      'ORDER_INVENTORY_ROLLBACK_REQUESTED',
      'ORDER_COMPENSATED',
    ],
  },
  {
    name: 'REVIEW + FAILED: nothing to review, the held payment is released',
    before: [R.review, R.failed],
    waiting: 'COMPENSATION_PENDING',
    after: [R.refunded0],
    final: 'COMPENSATED',
    sides: ['FAILED', 'REFUNDED'],
    reasons: ['INVENTORY_OUT_OF_STOCK: p-1'],
    orderEvents: ['ORDER_CREATED', ...UNDO, 'ORDER_COMPENSATED'],
    // The review first: the order waits UNDER_REVIEW until the failure comes.
    mayAlsoHave: ['ORDER_UNDER_REVIEW'],
  },
  {
    name: 'RISK_REJECTED + RESERVED: like a declined payment, with the rules’ reasons',
    before: [R.riskRejected, R.reserved],
    waiting: 'COMPENSATION_PENDING',
    after: [R.released],
    final: 'COMPENSATED',
    sides: ['RELEASED', 'DECLINED'],
    reasons: [
      'PAYMENT_RISK_REJECTED',
      'RISK_AMOUNT: total 3000 over 2000',
      'RISK_FIRST_ORDER: first order of c-1 totals 3000, over 1000',
    ],
    orderEvents: [
      'ORDER_CREATED',
      'ORDER_CANCELLED',
      'ORDER_COMPENSATION_STARTED',
      'ORDER_INVENTORY_ROLLBACK_REQUESTED',
      'ORDER_COMPENSATED',
    ],
  },
  {
    name: 'RISK_REJECTED + FAILED: nothing to undo',
    before: [R.riskRejected, R.failed],
    waiting: 'CANCELLED',
    after: [],
    final: 'CANCELLED',
    sides: ['FAILED', 'DECLINED'],
    reasons: ['PAYMENT_RISK_REJECTED'],
    orderEvents: ['ORDER_CREATED', 'ORDER_CANCELLED'],
  },
];

describe.each(ROWS)('saga with risk: $name', (row) => {
  const cases = arrivals(row.before).flatMap((b) =>
    (row.causal ? duplicated(row.after) : arrivals(row.after)).map((a) => [`${label(b)} | ${label(a)}`, b, a]),
  );
  it.each(cases)('%s', (_n, before, after) => {
    const b = before as SagaCommand[];
    const a = after as SagaCommand[];
    expect(run(b).state.status).toBe(row.waiting);
    const r = run([...b, ...(row.decision ? [row.decision] : []), ...a]);
    expect(r.state.status).toBe(row.final);
    expect([inventoryStatusOf(r.state), paymentStatusOf(r.state)]).toEqual(row.sides);
    const orderEvents = r.types.filter((t) => t.startsWith('ORDER_') && !row.mayAlsoHave?.includes(t));
    expect(orderEvents).toEqual(row.orderEvents);
    for (const reason of row.reasons) expect(r.state.reasons).toContain(reason);
    // Any message delivered again at the end changes nothing.
    for (const again of [...b, ...a]) expect(decideSaga(again, r.state, NOW)).toEqual([]);
  });
});

describe('saga with risk: the review itself', () => {
  it('holds the order UNDER_REVIEW until REVIEW_TIMEOUT_MS, with the score and reasons', () => {
    const r = run([R.review]);
    expect(r.state.status).toBe('UNDER_REVIEW');
    const held = r.stream.find((e) => e.type === 'ORDER_UNDER_REVIEW');
    expect(held?.data).toEqual({
      score: 60,
      reasons: RISK_REASONS,
      reviewDueAt: new Date(Date.parse(NOW) + REVIEW_MS).toISOString(),
    });
    expect(r.state.review).toMatchObject({ decision: 'PENDING', score: 60, reasons: RISK_REASONS });
  });
  it('an approval asks payment to capture the order total', () => {
    const r = run([R.review, R.reserved, approve]);
    expect(r.state.status).toBe('PENDING');
    expect(r.stream.at(-1)).toMatchObject({
      type: 'ORDER_REVIEW_APPROVED',
      data: { customerId: 'c-1', amount: 3000, currency: 'EUR' },
    });
  });
  it('a repeated decision changes nothing; the other decision is refused', () => {
    const approved = run([R.review, approve]).state;
    expect(decideSaga(approve, approved, NOW)).toEqual([]);
    expect(() => decideSaga(reject, approved, NOW)).toThrow(OrderNotUnderReviewError);
    const rejected = run([R.review, reject]).state;
    expect(decideSaga(reject, rejected, NOW)).toEqual([]);
    expect(() => decideSaga(approve, rejected, NOW)).toThrow(/already rejected/);
  });
  it('a decision on an order never held is refused', () => {
    expect(() => decideSaga(approve, run([]).state, NOW)).toThrow(OrderNotUnderReviewError);
    expect(() => decideSaga(reject, run([R.reserved, R.approved]).state, NOW)).toThrow(OrderNotUnderReviewError);
  });
  it('a payment answer while the review is undecided is ignored (payment holds the capture)', () => {
    const held = run([R.review, R.reserved]).state;
    expect(decideSaga(R.approved, held, NOW)).toEqual([]);
    expect(decideSaga(R.declined, held, NOW)).toEqual([]);
  });
  it('a review asked after payment already answered is ignored', () => {
    expect(decideSaga(R.review, run([R.approved]).state, NOW)).toEqual([]);
  });
  it('the saga timeout never cancels a held order as a saga timeout: while UNDER_REVIEW it is the review timeout', () => {
    const r = run([R.review, R.reserved, timeout]);
    expect(r.state.reasons[0]).toBe(REVIEW_TIMEOUT_REASON);
    expect(r.state.reasons).not.toContain('SAGA_TIMEOUT: no answer from every service in time');
  });
  it('a held order may be cancelled by its customer; the held payment and the stock are undone', () => {
    const r = run([R.review, R.reserved, { type: 'CustomerCancel', orderId: ORDER, by: 'customer' }]);
    expect(r.state.status).toBe('COMPENSATION_PENDING');
    expect(r.state.paymentUndo).toBe('REQUESTED');
    expect(r.state.inventoryUndo).toBe('REQUESTED');
    expect(() => decideSaga(approve, r.state, NOW)).toThrow(OrderNotUnderReviewError);
  });
  it('a completed order that was reviewed cannot be cancelled', () => {
    const done = run([R.review, R.reserved, approve, R.approved, R.committed]).state;
    expect(() => decideSaga({ type: 'CustomerCancel', orderId: ORDER, by: 'customer' }, done, NOW)).toThrow(
      OrderNotCancellableError,
    );
  });
});
