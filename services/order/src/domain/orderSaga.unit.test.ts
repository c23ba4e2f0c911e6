import { describe, expect, it } from 'vitest';
import {
  CompensationNotRetryableError,
  decideOrder,
  decideSaga,
  fold,
  InvalidOrderError,
  inventoryStatusOf,
  isFinal,
  OrderAlreadyExistsError,
  OrderNotCancellableError,
  OrderNotFoundError,
  type OrderState,
  type OrderStreamEvent,
  paymentStatusOf,
  RESERVATION_EXPIRED_REASON,
  type ResultReceived,
  resultIgnoredBecause,
  SAGA_TIMEOUT_REASON,
  type SagaCommand,
} from './index.js';

const ORDER = '0b9b7a3e-2f0c-4d7e-9a38-1c2d3e4f5a6b';
const NOW = '2026-03-01T10:00:00.000Z';
const items = [
  { productId: 'p-1', quantity: 2, unitPrice: 1250 },
  { productId: 'p-2', quantity: 1, unitPrice: 500 },
];
const created: OrderStreamEvent = {
  type: 'ORDER_CREATED',
  occurredAt: NOW,
  data: { customerId: 'c-1', currency: 'EUR', items, totalAmount: 3000 },
};

const R = {
  reserved: { type: 'ResultReceived', orderId: ORDER, eventType: 'INVENTORY_RESERVED', data: { items } },
  failed: {
    type: 'ResultReceived',
    orderId: ORDER,
    eventType: 'INVENTORY_RESERVATION_FAILED',
    data: { reason: 'OUT_OF_STOCK', productIds: ['p-2'] },
  },
  committed: { type: 'ResultReceived', orderId: ORDER, eventType: 'INVENTORY_COMMITTED', data: {} },
  released: { type: 'ResultReceived', orderId: ORDER, eventType: 'INVENTORY_RELEASED', data: {} },
  approved: {
    type: 'ResultReceived',
    orderId: ORDER,
    eventType: 'PAYMENT_APPROVED',
    data: { amount: 3000, currency: 'EUR' },
  },
  declined: {
    type: 'ResultReceived',
    orderId: ORDER,
    eventType: 'PAYMENT_DECLINED',
    data: { reason: 'INSUFFICIENT_FUNDS' },
  },
  refunded: {
    type: 'ResultReceived',
    orderId: ORDER,
    eventType: 'PAYMENT_REFUNDED',
    data: { amount: 3000, currency: 'EUR' },
  },
} satisfies Record<string, ResultReceived>;
const sagaTimeout: SagaCommand = { type: 'SagaTimeout', orderId: ORDER };
const compensationTimeout: SagaCommand = { type: 'CompensationTimeout', orderId: ORDER };
const customerCancel: SagaCommand = { type: 'CustomerCancel', orderId: ORDER, by: 'customer' };
const retry: SagaCommand = { type: 'RetryCompensation', orderId: ORDER };

/** Feeds commands one after the other, as the saga handler does; returns the whole stream and the state. */
function run(commands: readonly SagaCommand[], history: OrderStreamEvent[] = [created]) {
  const stream = [...history];
  for (const c of commands) stream.push(...decideSaga(c, fold(stream), NOW));
  return { stream, state: fold(stream), types: stream.map((e) => e.type) };
}
const types = (events: readonly OrderStreamEvent[]) => events.map((e) => e.type);
const given = (...cmds: SagaCommand[]): OrderState => run(cmds).state;

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('Order decider: PlaceOrder', () => {
  const place = { type: 'PlaceOrder' as const, orderId: ORDER, customerId: 'c-1', currency: 'EUR', items };
  it('creates a PENDING order whose total is Σ quantity × unitPrice in minor units', () => {
    const events = decideOrder(place, fold([]), NOW);
    expect(events).toEqual([created]);
    const s = fold(events);
    expect(s).toMatchObject({ status: 'PENDING', totalAmount: 3000, version: 1, createdAt: NOW });
    expect([inventoryStatusOf(s), paymentStatusOf(s)]).toEqual(['PENDING', 'PENDING']);
  });
  it('refuses to create an order twice', () => {
    expect(() => decideOrder(place, fold([created]), NOW)).toThrow(OrderAlreadyExistsError);
  });
  it.each([
    ['no items', { items: [] }, '/items'],
    [
      '101 items',
      { items: Array.from({ length: 101 }, (_, i) => ({ productId: `p${i}`, quantity: 1, unitPrice: 1 })) },
      '/items',
    ],
    ['a duplicate product', { items: [items[0]!, items[0]!] }, '/items/1/productId'],
    ['quantity 0', { items: [{ productId: 'p', quantity: 0, unitPrice: 1 }] }, '/items/0/quantity'],
    ['quantity 1001', { items: [{ productId: 'p', quantity: 1001, unitPrice: 1 }] }, '/items/0/quantity'],
    ['a negative price', { items: [{ productId: 'p', quantity: 1, unitPrice: -1 }] }, '/items/0/unitPrice'],
    ['a fractional price', { items: [{ productId: 'p', quantity: 1, unitPrice: 1.5 }] }, '/items/0/unitPrice'],
    ['an unknown currency', { currency: 'XXX' }, '/currency'],
    ['a bad customer id', { customerId: 'a b' }, '/customerId'],
    ['a bad product id', { items: [{ productId: "p'1", quantity: 1, unitPrice: 1 }] }, '/items/0/productId'],
    [
      'a total above MAX_AMOUNT',
      {
        items: [
          { productId: 'a', quantity: 1000, unitPrice: 999_999_999_999 },
          { productId: 'b', quantity: 1000, unitPrice: 999_999_999_999 },
        ],
      },
      '/items',
    ],
  ])('rejects %s, naming the field', (_name, over, field) => {
    try {
      decideOrder({ ...place, ...over }, fold([]), NOW);
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidOrderError);
      expect((err as InvalidOrderError).errors.map((e) => e.field)).toContain(field);
    }
  });
});

const FAILED_REASON = 'INVENTORY_OUT_OF_STOCK: p-2';
const DECLINED_REASON = 'PAYMENT_INSUFFICIENT_FUNDS';
const orderTypes = (events: readonly OrderStreamEvent[]) => types(events).filter((t) => t.startsWith('ORDER_'));
const cancelledData = (events: readonly OrderStreamEvent[]) => events.find((e) => e.type === 'ORDER_CANCELLED')?.data;

interface Row {
  name: string;
  results: [SagaCommand, SagaCommand];
  acks: SagaCommand[];
  /** Status once both results are in, and the ORDER_* events appended then. */
  decided: string;
  decidedEvents: string[];
  cancelled?: { requiresRefund: boolean; requiresInventoryRollback: boolean };
  final: string;
  sides: [string, string];
}
const ROWS: Row[] = [
  {
    name: 'RESERVED + APPROVED',
    results: [R.reserved, R.approved],
    acks: [R.committed],
    decided: 'CONFIRMED',
    decidedEvents: ['ORDER_CONFIRMED'],
    final: 'COMPLETED',
    sides: ['COMMITTED', 'APPROVED'],
  },
  {
    name: 'FAILED + DECLINED',
    results: [R.failed, R.declined],
    acks: [],
    decided: 'CANCELLED',
    decidedEvents: ['ORDER_CANCELLED'],
    cancelled: { requiresRefund: false, requiresInventoryRollback: false },
    final: 'CANCELLED',
    sides: ['FAILED', 'DECLINED'],
  },
  {
    name: 'FAILED + APPROVED',
    results: [R.failed, R.approved],
    acks: [R.refunded],
    decided: 'COMPENSATION_PENDING',
    decidedEvents: ['ORDER_CANCELLED', 'ORDER_COMPENSATION_STARTED', 'ORDER_PAYMENT_ROLLBACK_REQUESTED'],
    cancelled: { requiresRefund: true, requiresInventoryRollback: false },
    final: 'COMPENSATED',
    sides: ['FAILED', 'REFUNDED'],
  },
  {
    name: 'RESERVED + DECLINED',
    results: [R.reserved, R.declined],
    acks: [R.released],
    decided: 'COMPENSATION_PENDING',
    decidedEvents: ['ORDER_CANCELLED', 'ORDER_COMPENSATION_STARTED', 'ORDER_INVENTORY_ROLLBACK_REQUESTED'],
    cancelled: { requiresRefund: false, requiresInventoryRollback: true },
    final: 'COMPENSATED',
    sides: ['RELEASED', 'DECLINED'],
  },
];
const reasonOf = (c: SagaCommand) => (c === R.failed ? FAILED_REASON : c === R.declined ? DECLINED_REASON : undefined);

describe.each(ROWS)('saga: SPEC §6 row $name', (row) => {
  const orders = permutations(row.results).map((p) => [
    p.map((c) => (c as ResultReceived).eventType).join(' then '),
    p,
  ]);

  it.each(orders)('%s: the first result is only recorded; the order stays PENDING', (_n, [first]) => {
    const r = run([first as SagaCommand]);
    expect(r.state.status).toBe('PENDING');
    expect(r.types).toEqual(['ORDER_CREATED', (first as ResultReceived).eventType]);
  });

  it.each(orders)('%s: both results decide the row, then its acknowledgements end it', (_n, both) => {
    const decided = run(both as SagaCommand[]);
    expect(decided.state.status).toBe(row.decided);
    expect(orderTypes(decided.stream.slice(3))).toEqual(row.decidedEvents);
    if (row.cancelled) {
      const reasons = (both as SagaCommand[]).map(reasonOf).filter((x) => x !== undefined);
      expect(cancelledData(decided.stream)).toEqual({ reasons, ...row.cancelled });
      // Any rollback request carries the order total.
      const refund = decided.stream.find((e) => e.type === 'ORDER_PAYMENT_ROLLBACK_REQUESTED');
      if (refund) expect(refund.data).toEqual({ amount: 3000, currency: 'EUR' });
    }
    const done = run([...(both as SagaCommand[]), ...row.acks]);
    expect(done.state.status).toBe(row.final);
    expect(isFinal(done.state)).toBe(true);
    expect([inventoryStatusOf(done.state), paymentStatusOf(done.state)]).toEqual(row.sides);
    const last =
      row.final === 'COMPLETED' ? 'ORDER_COMPLETED' : row.final === 'COMPENSATED' ? 'ORDER_COMPENSATED' : null;
    if (last) expect(done.types.at(-1)).toBe(last);
    expect(orderTypes(done.stream).filter((t) => t === 'ORDER_CANCELLED' || t === 'ORDER_CONFIRMED')).toHaveLength(1);
  });

  it.each(orders)('%s: a duplicate of any message at any later point changes nothing', (_n, both) => {
    const seq = [...(both as SagaCommand[]), ...row.acks];
    const reference = run(seq);
    for (let i = 0; i < seq.length; i++) {
      for (let at = i + 1; at <= seq.length; at++) {
        const withDup = [...seq.slice(0, at), seq[i] as SagaCommand, ...seq.slice(at)];
        expect(run(withDup).stream, `duplicate of #${i} at ${at}`).toEqual(reference.stream);
      }
    }
  });

  it.each(orders)(
    '%s: once final, timeouts decide nothing, cancel is refused, stray acknowledgements are ignored',
    (_n, both) => {
      const s = run([...(both as SagaCommand[]), ...row.acks]).state;
      expect(decideSaga(sagaTimeout, s, NOW)).toEqual([]);
      expect(decideSaga(compensationTimeout, s, NOW)).toEqual([]);
      expect(() => decideSaga(customerCancel, s, NOW)).toThrow(OrderNotCancellableError);
      expect(() => decideSaga(retry, s, NOW)).toThrow(CompensationNotRetryableError);
      // e.g. PAYMENT_REFUNDED {amount: 0} / INVENTORY_RELEASED answering an ORDER_CANCELLED that required nothing
      for (const ack of [R.released, R.refunded]) expect(decideSaga(ack, s, NOW)).toEqual([]);
    },
  );
});

describe('saga: both sides failed', () => {
  it('ends CANCELLED, final, with nothing to undo (SPEC §6 "FAILED | DECLINED | CANCELLED")', () => {
    const r = run([R.declined, R.failed]);
    expect(r.types.slice(1)).toEqual(['PAYMENT_DECLINED', 'INVENTORY_RESERVATION_FAILED', 'ORDER_CANCELLED']);
    expect(r.stream.at(-1)?.data).toEqual({
      reasons: [DECLINED_REASON, FAILED_REASON],
      requiresRefund: false,
      requiresInventoryRollback: false,
    });
    expect(r.state.status).toBe('CANCELLED');
    expect(r.state.inventoryUndo).toBe('NOT_REQUESTED');
    expect(r.state.paymentUndo).toBe('NOT_REQUESTED');
  });
  it('a first failure alone is not a decision: the other side still counts, and the saga deadline still stands', () => {
    const s = given(R.failed);
    expect(s.status).toBe('PENDING');
    expect(s.reasons).toEqual([FAILED_REASON]);
    expect([inventoryStatusOf(s), paymentStatusOf(s)]).toEqual(['FAILED', 'PENDING']);
    // the deadline fires while PENDING: cancelled then, naming the failure and the timeout
    expect(cancelledData(decideSaga(sagaTimeout, s, NOW))).toEqual({
      reasons: [FAILED_REASON, SAGA_TIMEOUT_REASON],
      requiresRefund: true,
      requiresInventoryRollback: false,
    });
  });
});

describe('saga: timeout or customer cancel after each first answer', () => {
  const FIRST: [string, SagaCommand[]][] = [
    ['nothing', []],
    ['RESERVED', [R.reserved]],
    ['APPROVED', [R.approved]],
    ['FAILED', [R.failed]],
    ['DECLINED', [R.declined]],
  ];
  const STOPS: [string, SagaCommand, string][] = [
    ['the saga timeout', sagaTimeout, SAGA_TIMEOUT_REASON],
    ['a customer cancel', customerCancel, 'CANCELLED_BY_CUSTOMER'],
  ];
  const cases = FIRST.flatMap(([n, before]) => STOPS.map(([s, stop, reason]) => [n, s, before, stop, reason] as const));

  it.each(cases)(
    'after %s, %s cancels and requests the undo of every side that has not failed',
    (_n, _s, before, stop, reason) => {
      const r = run([...before, stop]);
      const inventoryFailed = before.includes(R.failed);
      const paymentFailed = before.includes(R.declined);
      expect(r.state.status).toBe('COMPENSATION_PENDING');
      expect(cancelledData(r.stream)).toEqual({
        reasons: [...before.map(reasonOf).filter((x) => x !== undefined), reason],
        requiresRefund: !paymentFailed,
        requiresInventoryRollback: !inventoryFailed,
      });
      const requested = [
        'ORDER_CANCELLED',
        'ORDER_COMPENSATION_STARTED',
        ...(paymentFailed ? [] : ['ORDER_PAYMENT_ROLLBACK_REQUESTED']),
        ...(inventoryFailed ? [] : ['ORDER_INVENTORY_ROLLBACK_REQUESTED']),
      ];
      expect(orderTypes(r.stream.slice(1))).toEqual(requested);
    },
  );

  it.each(cases)(
    'after %s, %s: late answers in any order with the acknowledgements → COMPENSATED exactly when every requested undo is done, never CONFIRMED',
    (_n, _s, before, stop) => {
      const inventoryKnown = before.includes(R.reserved) || before.includes(R.failed);
      const paymentKnown = before.includes(R.approved) || before.includes(R.declined);
      const inventoryLate: (SagaCommand | null)[] = inventoryKnown ? [null] : [R.reserved, R.failed];
      const paymentLate: (SagaCommand | null)[] = paymentKnown ? [null] : [R.approved, R.declined];
      const cancelled = run([...before, stop]);
      const invRequested = cancelled.state.inventoryUndo === 'REQUESTED';
      const payRequested = cancelled.state.paymentUndo === 'REQUESTED';
      let scenarios = 0;
      for (const inv of inventoryLate)
        for (const pay of paymentLate) {
          // Each service answers every rollback request (released / refunded, amount 0 when nothing was taken).
          const late = [inv, pay, invRequested ? R.released : null, payRequested ? R.refunded : null].filter(
            (c): c is SagaCommand => c !== null,
          );
          for (const order of permutations(late)) {
            scenarios++;
            const stream = [...cancelled.stream];
            const done = { inventory: !invRequested, payment: !payRequested };
            for (const c of order) {
              stream.push(...decideSaga(c, fold(stream), NOW));
              if (c === R.failed || c === R.released) done.inventory = true;
              if (c === R.declined || c === R.refunded) done.payment = true;
              const status = fold(stream).status;
              expect(status, `${types([...stream])}`).toBe(
                done.inventory && done.payment ? 'COMPENSATED' : 'COMPENSATION_PENDING',
              );
            }
            const t = types(stream);
            expect(t).not.toContain('ORDER_CONFIRMED');
            expect(t).not.toContain('ORDER_COMPLETED');
            expect(orderTypes(stream.slice(cancelled.stream.length))).toEqual(['ORDER_COMPENSATED']);
            const s = fold(stream);
            expect(inventoryStatusOf(s)).toMatch(/^(FAILED|RELEASED)$/);
            expect(paymentStatusOf(s)).toMatch(/^(DECLINED|REFUNDED)$/);
          }
        }
      expect(scenarios).toBeGreaterThan(0);
    },
  );
});

describe('saga: timeouts', () => {
  it.each([
    ['CONFIRMED', [R.reserved, R.approved]],
    ['COMPLETED', [R.reserved, R.approved, R.committed]],
    ['CANCELLED', [R.failed, R.declined]],
    ['COMPENSATION_PENDING', [R.failed, R.approved]],
    ['COMPENSATED', [R.failed, R.approved, R.refunded]],
    ['COMPENSATION_FAILED', [sagaTimeout, compensationTimeout]],
  ] as [string, SagaCommand[]][])('the saga timeout fires after %s → no-op', (status, cmds) => {
    const s = given(...cmds);
    expect(s.status).toBe(status);
    expect(decideSaga(sagaTimeout, s, NOW)).toEqual([]);
  });
  it('a timeout for an order that does not exist is a no-op', () => {
    expect(decideSaga(sagaTimeout, fold([]), NOW)).toEqual([]);
    expect(decideSaga(compensationTimeout, fold([]), NOW)).toEqual([]);
  });
  it('compensation not acknowledged in time → COMPENSATION_FAILED naming the missing side', () => {
    const r = run([sagaTimeout, R.released, compensationTimeout]);
    expect(r.state.status).toBe('COMPENSATION_FAILED');
    expect(r.stream.at(-1)?.data).toEqual({ reasons: ['COMPENSATION_TIMEOUT: payment refund not acknowledged'] });
    expect(decideSaga(compensationTimeout, given(sagaTimeout, R.released, R.refunded), NOW)).toEqual([]);
    expect(decideSaga(compensationTimeout, given(R.reserved), NOW)).toEqual([]);
  });
  it('retry re-emits only the missing rollback; a late acknowledgement completes it, also without retry', () => {
    const failed = [sagaTimeout, R.released, compensationTimeout];
    const retried = run([...failed, retry]);
    expect(retried.types.slice(-2)).toEqual(['ORDER_COMPENSATION_STARTED', 'ORDER_PAYMENT_ROLLBACK_REQUESTED']);
    expect(retried.state.status).toBe('COMPENSATION_PENDING');
    expect(run([...failed, retry, R.refunded]).state.status).toBe('COMPENSATED');
    expect(run([...failed, R.refunded]).state.status).toBe('COMPENSATED');
    // a late failure of the side still owed also completes it: nothing was taken
    expect(run([...failed, R.declined]).state.status).toBe('COMPENSATED');
  });
  it('retry of anything but COMPENSATION_FAILED is illegal', () => {
    expect(() => decideSaga(retry, given(sagaTimeout), NOW)).toThrow(CompensationNotRetryableError);
    expect(() => decideSaga(retry, given(), NOW)).toThrow(CompensationNotRetryableError);
  });
});

describe('saga: customer cancellation at each step', () => {
  it('PENDING, nothing answered → cancel and undo both', () => {
    const r = run([customerCancel]);
    expect(r.state.status).toBe('COMPENSATION_PENDING');
    expect(r.stream[1]?.data).toEqual({
      reasons: ['CANCELLED_BY_CUSTOMER'],
      requiresRefund: true,
      requiresInventoryRollback: true,
    });
  });
  it.each(permutations([R.committed, R.released, R.refunded]))(
    'CONFIRMED → cancel refunds and releases (inventory may have committed meanwhile), acks in any order (%#)',
    (...after) => {
      const r = run([R.reserved, R.approved, customerCancel, ...after]);
      expect(r.types).not.toContain('ORDER_COMPLETED');
      expect(cancelledData(r.stream)).toEqual({
        reasons: ['CANCELLED_BY_CUSTOMER'],
        requiresRefund: true,
        requiresInventoryRollback: true,
      });
      expect(r.state.status).toBe('COMPENSATED');
      expect([inventoryStatusOf(r.state), paymentStatusOf(r.state)]).toEqual(['RELEASED', 'REFUNDED']);
    },
  );
  it('by an admin names the admin', () => {
    const events = decideSaga({ ...customerCancel, by: 'admin' } as SagaCommand, given(), NOW);
    expect(events[0]?.data).toMatchObject({ reasons: ['CANCELLED_BY_ADMIN'] });
  });
  it.each([
    ['COMPLETED', [R.reserved, R.approved, R.committed]],
    ['CANCELLED', [R.failed, R.declined]],
    ['COMPENSATION_PENDING', [R.failed, R.approved]],
    ['COMPENSATION_PENDING', [customerCancel]],
    ['COMPENSATED', [R.reserved, R.declined, R.released]],
    ['COMPENSATION_FAILED', [sagaTimeout, compensationTimeout]],
  ] as [string, SagaCommand[]][])('%s → OrderNotCancellableError', (status, cmds) => {
    const s = given(...cmds);
    expect(s.status).toBe(status);
    expect(() => decideSaga(customerCancel, s, NOW)).toThrow(OrderNotCancellableError);
  });
  it('a command for an order that does not exist is illegal', () => {
    expect(() => decideSaga(customerCancel, fold([]), NOW)).toThrow(OrderNotFoundError);
    expect(() => decideSaga(R.reserved, fold([]), NOW)).toThrow(OrderNotFoundError);
  });
});

describe('saga: the reservation expired before the confirmation reached inventory', () => {
  it('CONFIRMED + INVENTORY_RELEASED (not requested) → cancel, refund only, COMPENSATED after PAYMENT_REFUNDED', () => {
    const r = run([R.reserved, R.approved, R.released]);
    expect(r.types.slice(4)).toEqual([
      'INVENTORY_RELEASED',
      'ORDER_CANCELLED',
      'ORDER_COMPENSATION_STARTED',
      'ORDER_PAYMENT_ROLLBACK_REQUESTED',
    ]);
    expect(cancelledData(r.stream)).toEqual({
      reasons: [RESERVATION_EXPIRED_REASON],
      requiresRefund: true,
      requiresInventoryRollback: false,
    });
    expect(r.stream.at(-1)?.data).toEqual({ amount: 3000, currency: 'EUR' });
    expect(r.state.status).toBe('COMPENSATION_PENDING');
    expect([inventoryStatusOf(r.state), paymentStatusOf(r.state)]).toEqual(['RELEASED', 'APPROVED']);
    const done = run([R.reserved, R.approved, R.released, R.refunded]);
    expect(done.state.status).toBe('COMPENSATED');
    expect(done.types.at(-1)).toBe('ORDER_COMPENSATED');
    expect([inventoryStatusOf(done.state), paymentStatusOf(done.state)]).toEqual(['RELEASED', 'REFUNDED']);
  });
  it('the second INVENTORY_RELEASED (sweeper, then the answer to ORDER_CONFIRMED) is a duplicate, before or after the refund', () => {
    const once = run([R.reserved, R.approved, R.released, R.refunded]);
    expect(run([R.reserved, R.approved, R.released, R.released, R.refunded]).stream).toEqual(once.stream);
    expect(run([R.reserved, R.approved, R.released, R.refunded, R.released]).stream).toEqual(once.stream);
    expect(resultIgnoredBecause(given(R.reserved, R.approved, R.released), 'INVENTORY_RELEASED')).toBe('duplicate');
  });
  it('refund not acknowledged in time → COMPENSATION_FAILED naming the payment; a late refund completes it', () => {
    const r = run([R.reserved, R.approved, R.released, compensationTimeout]);
    expect(r.state.status).toBe('COMPENSATION_FAILED');
    expect(r.stream.at(-1)?.data).toEqual({ reasons: ['COMPENSATION_TIMEOUT: payment refund not acknowledged'] });
    expect(run([R.reserved, R.approved, R.released, compensationTimeout, R.refunded]).state.status).toBe('COMPENSATED');
  });
  it('while PENDING (the sweeper ran before payment answered) it is not recorded; the confirmation is answered again', () => {
    expect(resultIgnoredBecause(given(R.reserved), 'INVENTORY_RELEASED')).toBe('unexpected');
    const r = run([R.reserved, R.released, R.approved, R.released, R.refunded]);
    expect(r.types.filter((t) => t === 'INVENTORY_RELEASED')).toHaveLength(1);
    expect(r.types).toContain('ORDER_CONFIRMED');
    expect(r.state.status).toBe('COMPENSATED');
  });
  it('after COMPLETED (stock committed) an unrequested release is not recorded', () => {
    expect(resultIgnoredBecause(given(R.reserved, R.approved, R.committed), 'INVENTORY_RELEASED')).toBe('unexpected');
    expect(decideSaga(R.released, given(R.reserved, R.approved, R.committed), NOW)).toEqual([]);
  });
  it('after a customer cancel of a CONFIRMED order the release is the requested acknowledgement, not a new cancel', () => {
    const r = run([R.reserved, R.approved, customerCancel, R.released]);
    expect(r.types.filter((t) => t === 'ORDER_CANCELLED')).toHaveLength(1);
    expect(r.state.status).toBe('COMPENSATION_PENDING');
  });
});

describe('saga: late and contradictory results', () => {
  it('a contradictory result after CONFIRMED is not recorded and never cancels the paid order', () => {
    const s = given(R.reserved, R.approved);
    expect(resultIgnoredBecause(s, 'PAYMENT_DECLINED')).toBe('contradictory');
    expect(resultIgnoredBecause(s, 'INVENTORY_RESERVATION_FAILED')).toBe('contradictory');
    expect(decideSaga(R.declined, s, NOW)).toEqual([]);
    expect(decideSaga(R.failed, s, NOW)).toEqual([]);
    expect(run([R.reserved, R.approved, R.declined, R.committed]).state.status).toBe('COMPLETED');
  });
  it('a contradictory success after a failure keeps the failure (also while waiting for the other side)', () => {
    const s = given(R.failed);
    expect(resultIgnoredBecause(s, 'INVENTORY_RESERVED')).toBe('contradictory');
    expect(decideSaga(R.reserved, s, NOW)).toEqual([]);
    // the contradiction does not count as the inventory side's answer: payment still decides
    expect(run([R.failed, R.reserved, R.declined]).state.status).toBe('CANCELLED');
  });
  it('duplicates are reported as such', () => {
    expect(resultIgnoredBecause(given(R.reserved), 'INVENTORY_RESERVED')).toBe('duplicate');
    expect(resultIgnoredBecause(given(R.failed), 'INVENTORY_RESERVATION_FAILED')).toBe('duplicate');
    expect(resultIgnoredBecause(given(R.reserved, R.approved, R.committed), 'INVENTORY_COMMITTED')).toBe('duplicate');
  });
  it('acknowledgements and commits nobody asked for are not recorded', () => {
    expect(resultIgnoredBecause(given(), 'INVENTORY_RELEASED')).toBe('unexpected');
    expect(decideSaga(R.refunded, given(R.approved), NOW)).toEqual([]);
    expect(decideSaga(R.refunded, given(R.reserved, R.approved), NOW)).toEqual([]);
    expect(decideSaga(R.committed, given(R.reserved), NOW)).toEqual([]);
  });
  it('a success after cancellation (late) is recorded for the timeline but emits nothing new', () => {
    const s = given(sagaTimeout);
    expect(types(decideSaga(R.reserved, s, NOW))).toEqual(['INVENTORY_RESERVED']);
    expect(types(decideSaga(R.approved, s, NOW))).toEqual(['PAYMENT_APPROVED']);
  });
  it('the version counts every recorded event', () => {
    const r = run([R.reserved, R.approved, R.committed]);
    expect(r.state.version).toBe(r.stream.length);
  });
});
