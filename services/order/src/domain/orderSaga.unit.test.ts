import { describe, expect, it } from 'vitest';
import {
  CompensationNotRetryableError,
  decideOrder,
  decideSaga,
  fold,
  InvalidOrderError,
  inventoryStatusOf,
  OrderAlreadyExistsError,
  OrderNotCancellableError,
  OrderNotFoundError,
  type OrderState,
  type OrderStreamEvent,
  paymentStatusOf,
  type ResultReceived,
  resultIgnoredBecause,
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

describe('saga: SPEC §6 outcomes, every order of arrival', () => {
  it.each(permutations([R.reserved, R.approved]))(
    'RESERVED + APPROVED → CONFIRMED, commit → COMPLETED (%#)',
    (a, b) => {
      const confirmed = run([a, b]);
      expect(confirmed.state.status).toBe('CONFIRMED');
      expect(confirmed.types.filter((t) => t === 'ORDER_CONFIRMED')).toHaveLength(1);
      const done = run([a, b, R.committed]);
      expect(done.state.status).toBe('COMPLETED');
      expect(done.types.slice(-2)).toEqual(['INVENTORY_COMMITTED', 'ORDER_COMPLETED']);
      expect([inventoryStatusOf(done.state), paymentStatusOf(done.state)]).toEqual(['COMMITTED', 'APPROVED']);
    },
  );

  it('FAILED then DECLINED: cancels at the first failure, the second completes the compensation (nothing held)', () => {
    const first = run([R.failed]);
    expect(first.types.slice(1)).toEqual([
      'INVENTORY_RESERVATION_FAILED',
      'ORDER_CANCELLED',
      'ORDER_COMPENSATION_STARTED',
      'ORDER_PAYMENT_ROLLBACK_REQUESTED',
    ]);
    expect(first.stream[2]?.data).toEqual({
      reasons: ['INVENTORY_OUT_OF_STOCK: p-2'],
      requiresRefund: true,
      requiresInventoryRollback: false,
    });
    const both = run([R.failed, R.declined]);
    expect(both.state.status).toBe('COMPENSATED');
    expect(both.state.reasons).toEqual(['INVENTORY_OUT_OF_STOCK: p-2', 'PAYMENT_INSUFFICIENT_FUNDS']);
    // payment answers the rollback request with REFUNDED {amount: 0}: a no-op now.
    expect(run([R.failed, R.declined, R.refunded]).stream).toEqual(both.stream);
  });

  it('DECLINED then FAILED: the same, mirrored', () => {
    const both = run([R.declined, R.failed]);
    expect(both.stream[2]?.data).toEqual({
      reasons: ['PAYMENT_INSUFFICIENT_FUNDS'],
      requiresRefund: false,
      requiresInventoryRollback: true,
    });
    expect(both.state.status).toBe('COMPENSATED');
    expect([inventoryStatusOf(both.state), paymentStatusOf(both.state)]).toEqual(['FAILED', 'DECLINED']);
  });

  it('both failures known at cancellation → CANCELLED, final, nothing to undo', () => {
    // Reachable when the two failures are recorded before the cancel decision (e.g. replayed history).
    const history: OrderStreamEvent[] = [
      created,
      { type: 'INVENTORY_RESERVATION_FAILED', occurredAt: NOW, data: { reason: 'OUT_OF_STOCK', productIds: ['p-2'] } },
      { type: 'PAYMENT_DECLINED', occurredAt: NOW, data: { reason: 'INSUFFICIENT_FUNDS' } },
    ];
    const { types: t, state } = run([customerCancel], history);
    expect(t.slice(3)).toEqual(['ORDER_CANCELLED']);
    expect(state.status).toBe('CANCELLED');
  });

  it.each(permutations([R.failed, R.approved]))('FAILED + APPROVED → CANCELLED, refund, COMPENSATED (%#)', (a, b) => {
    const r = run([a, b]);
    expect(r.state.status).toBe('COMPENSATION_PENDING');
    const cancelled = r.stream.find((e) => e.type === 'ORDER_CANCELLED');
    expect(cancelled?.data).toMatchObject({ requiresRefund: true, requiresInventoryRollback: false });
    expect(r.types).toContain('ORDER_PAYMENT_ROLLBACK_REQUESTED');
    expect(r.types).not.toContain('ORDER_INVENTORY_ROLLBACK_REQUESTED');
    const done = run([a, b, R.refunded]);
    expect(done.state.status).toBe('COMPENSATED');
    expect(paymentStatusOf(done.state)).toBe('REFUNDED');
  });

  it.each(permutations([R.reserved, R.declined]))(
    'RESERVED + DECLINED → CANCELLED, release, COMPENSATED (%#)',
    (a, b) => {
      const r = run([a, b]);
      expect(r.state.status).toBe('COMPENSATION_PENDING');
      expect(r.stream.find((e) => e.type === 'ORDER_CANCELLED')?.data).toMatchObject({
        requiresRefund: false,
        requiresInventoryRollback: true,
      });
      const done = run([a, b, R.released]);
      expect(done.state.status).toBe('COMPENSATED');
      expect(inventoryStatusOf(done.state)).toBe('RELEASED');
    },
  );

  const rows: [string, SagaCommand[], SagaCommand[], string][] = [
    ['RESERVED+APPROVED', [R.reserved, R.approved, R.committed], [], 'COMPLETED'],
    ['FAILED+DECLINED', [R.failed, R.declined], [R.refunded], 'COMPENSATED'],
    ['FAILED+APPROVED', [R.failed, R.approved], [R.refunded], 'COMPENSATED'],
    ['RESERVED+DECLINED', [R.reserved, R.declined], [R.released], 'COMPENSATED'],
  ];
  it.each(rows)('%s: a duplicate of any message at any later point changes nothing', (_n, results, acks, final) => {
    const seq = [...results, ...acks];
    const reference = run(seq);
    expect(reference.state.status).toBe(final);
    for (let i = 0; i < seq.length; i++) {
      for (let at = i + 1; at <= seq.length; at++) {
        const withDup = [...seq.slice(0, at), seq[i] as SagaCommand, ...seq.slice(at)];
        expect(run(withDup).stream, `duplicate of #${i} at ${at}`).toEqual(reference.stream);
      }
    }
  });
});

describe('saga: timeouts', () => {
  it('no answer at all → CANCELLED and both sides undone up front; COMPENSATED only with both acks', () => {
    const r = run([sagaTimeout]);
    expect(r.types.slice(1)).toEqual([
      'ORDER_CANCELLED',
      'ORDER_COMPENSATION_STARTED',
      'ORDER_PAYMENT_ROLLBACK_REQUESTED',
      'ORDER_INVENTORY_ROLLBACK_REQUESTED',
    ]);
    expect(r.stream[3]?.data).toEqual({ amount: 3000, currency: 'EUR' });
    expect(run([sagaTimeout, R.released]).state.status).toBe('COMPENSATION_PENDING');
    expect(run([sagaTimeout, R.released, R.refunded]).state.status).toBe('COMPENSATED');
    expect(run([sagaTimeout, R.refunded, R.released]).state.status).toBe('COMPENSATED');
  });
  it('only one side answered → still undoes both, also when the late answer is a success', () => {
    const r = run([R.reserved, sagaTimeout]);
    expect(r.stream.find((e) => e.type === 'ORDER_CANCELLED')?.data).toEqual({
      reasons: ['SAGA_TIMEOUT: no answer from every service in time'],
      requiresRefund: true,
      requiresInventoryRollback: true,
    });
    const late = run([R.reserved, sagaTimeout, R.approved]);
    expect(late.types.at(-1)).toBe('PAYMENT_APPROVED');
    expect(late.types).not.toContain('ORDER_CONFIRMED');
    expect(run([R.reserved, sagaTimeout, R.approved, R.released, R.refunded]).state.status).toBe('COMPENSATED');
  });
  it.each([
    ['nothing', [], true, true],
    ['RESERVED', [R.reserved], true, true],
    ['APPROVED', [R.approved], true, true],
  ] as [string, SagaCommand[], boolean, boolean][])(
    'timeout and customer cancel after %s: cancel with both undos requested, the other late answer confirms nothing',
    (_n, before, refund, rollback) => {
      for (const stop of [sagaTimeout, customerCancel]) {
        const r = run([...before, stop]);
        expect(r.state.status).toBe('COMPENSATION_PENDING');
        expect(r.stream.find((e) => e.type === 'ORDER_CANCELLED')?.data).toMatchObject({
          requiresRefund: refund,
          requiresInventoryRollback: rollback,
        });
        const late = run([...before, stop, R.reserved, R.approved, R.committed]);
        expect(late.types).not.toContain('ORDER_CONFIRMED');
        expect(late.types).not.toContain('ORDER_COMPLETED');
        expect(run([...before, stop, R.reserved, R.approved, R.released, R.refunded]).state.status).toBe('COMPENSATED');
      }
    },
  );
  it.each([
    ['CONFIRMED', [R.reserved, R.approved]],
    ['COMPLETED', [R.reserved, R.approved, R.committed]],
    ['COMPENSATION_PENDING', [R.failed]],
    ['COMPENSATED', [R.failed, R.declined]],
  ] as [string, SagaCommand[]][])('fires after %s → no-op', (_s, cmds) => {
    expect(decideSaga(sagaTimeout, given(...cmds), NOW)).toEqual([]);
  });
  it('a timeout for an order that does not exist is a no-op', () => {
    expect(decideSaga(sagaTimeout, fold([]), NOW)).toEqual([]);
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
  it('PENDING after a reservation → late payment approval needs nothing new, acks compensate', () => {
    const r = run([R.reserved, customerCancel, R.approved, R.refunded, R.released]);
    expect(r.types).not.toContain('ORDER_CONFIRMED');
    expect(r.state.status).toBe('COMPENSATED');
  });
  it('CONFIRMED → cancel refunds and releases (inventory may have committed meanwhile)', () => {
    const r = run([R.reserved, R.approved, customerCancel, R.committed, R.released, R.refunded]);
    expect(r.types).not.toContain('ORDER_COMPLETED');
    expect(r.state.status).toBe('COMPENSATED');
    expect([inventoryStatusOf(r.state), paymentStatusOf(r.state)]).toEqual(['RELEASED', 'REFUNDED']);
  });
  it('by an admin names the admin', () => {
    const events = decideSaga({ ...customerCancel, by: 'admin' } as SagaCommand, given(), NOW);
    expect(events[0]?.data).toMatchObject({ reasons: ['CANCELLED_BY_ADMIN'] });
  });
  it.each([
    ['COMPLETED', [R.reserved, R.approved, R.committed]],
    ['COMPENSATION_PENDING', [R.failed]],
    ['COMPENSATED', [R.reserved, R.declined, R.released]],
    ['COMPENSATION_FAILED', [sagaTimeout, compensationTimeout]],
  ] as [string, SagaCommand[]][])('%s → OrderNotCancellableError', (status, cmds) => {
    const s = given(...cmds);
    expect(s.status).toBe(status);
    expect(() => decideSaga(customerCancel, s, NOW)).toThrow(OrderNotCancellableError);
  });
  it('both failed, final CANCELLED → not cancellable', () => {
    const s = fold([
      created,
      { type: 'INVENTORY_RESERVATION_FAILED', occurredAt: NOW, data: { reason: 'UNKNOWN_PRODUCT', productIds: ['x'] } },
      { type: 'PAYMENT_DECLINED', occurredAt: NOW, data: { reason: 'UNKNOWN_CUSTOMER' } },
      {
        type: 'ORDER_CANCELLED',
        occurredAt: NOW,
        data: { reasons: [], requiresRefund: false, requiresInventoryRollback: false },
      },
    ]);
    expect(() => decideSaga(customerCancel, s, NOW)).toThrow(OrderNotCancellableError);
  });
  it('a command for an order that does not exist is illegal', () => {
    expect(() => decideSaga(customerCancel, fold([]), NOW)).toThrow(OrderNotFoundError);
    expect(() => decideSaga(R.reserved, fold([]), NOW)).toThrow(OrderNotFoundError);
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
  it('a contradictory success after a failure keeps the failure', () => {
    const s = given(R.failed);
    expect(resultIgnoredBecause(s, 'INVENTORY_RESERVED')).toBe('contradictory');
    expect(decideSaga(R.reserved, s, NOW)).toEqual([]);
  });
  it('duplicates are reported as such', () => {
    expect(resultIgnoredBecause(given(R.reserved), 'INVENTORY_RESERVED')).toBe('duplicate');
    expect(resultIgnoredBecause(given(R.reserved, R.approved, R.committed), 'INVENTORY_COMMITTED')).toBe('duplicate');
  });
  it('acknowledgements and commits nobody asked for are not recorded', () => {
    expect(resultIgnoredBecause(given(), 'INVENTORY_RELEASED')).toBe('unexpected');
    expect(decideSaga(R.refunded, given(R.approved), NOW)).toEqual([]);
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
