import { describe, expect, it } from 'vitest';
import {
  decideAccountPut,
  decidePayment,
  decideTopUp,
  MAX_BALANCE,
  type Payment,
  type PaymentOrderState,
  UNDONE_BEFORE_REQUEST,
} from './payment.js';

const now = new Date('2026-03-01T12:00:00.000Z');
const earlier = new Date('2026-03-01T11:00:00.000Z');
const state = (over: Partial<PaymentOrderState> = {}): PaymentOrderState => ({
  account: { customerId: 'c1', balance: 1000, currency: 'EUR' },
  payment: null,
  rollbackMarker: false,
  ...over,
});
const charge = (amount: number, currency = 'EUR', customerId = 'c1') =>
  ({ type: 'charge', customerId, amount, currency }) as const;
const payment = (status: Payment['status'], over: Partial<Payment> = {}): Payment => ({
  customerId: 'c1',
  amount: 300,
  currency: 'EUR',
  status,
  reason: null,
  refundedAmount: 0,
  updatedAt: earlier,
  ...over,
});

describe('charge (ORDER_CREATED)', () => {
  it('approves and deducts when the balance covers the total', () => {
    const d = decidePayment(charge(1000), state(), now);
    expect(d.balance).toEqual({ customerId: 'c1', kind: 'deduction', delta: -1000, at: now });
    expect(d.payment).toMatchObject({ status: 'APPROVED', updatedAt: now });
    expect(d.reply).toEqual({ eventType: 'PAYMENT_APPROVED', data: { amount: 1000, currency: 'EUR' } });
  });
  it.each([
    ['INSUFFICIENT_FUNDS', charge(1001), state()],
    ['UNKNOWN_CUSTOMER', charge(1), state({ account: null })],
    ['CURRENCY_MISMATCH', charge(1, 'USD'), state()],
  ] as const)('declines with %s and takes nothing', (reason, cmd, s) => {
    const d = decidePayment(cmd, s, now);
    expect(d.balance).toBeUndefined();
    expect(d.payment).toMatchObject({ status: 'DECLINED', reason });
    expect(d.reply).toEqual({ eventType: 'PAYMENT_DECLINED', data: { reason } });
  });
  it('a rollback marker: no deduction, answered as refunded 0', () => {
    const d = decidePayment(charge(10), state({ rollbackMarker: true }), now);
    expect(d.balance).toBeUndefined();
    expect(d.payment).toMatchObject({ status: 'REFUNDED', reason: UNDONE_BEFORE_REQUEST, refundedAmount: 0 });
    expect(d.reply).toEqual({ eventType: 'PAYMENT_REFUNDED', data: { amount: 0, currency: 'EUR' } });
  });
  it('an order already decided is not charged again', () => {
    expect(decidePayment(charge(10), state({ payment: payment('APPROVED') }), now)).toEqual({});
  });
});

describe('refund (rollback requested / cancelled)', () => {
  it('gives back what was taken, once', () => {
    const d = decidePayment({ type: 'refund', currency: 'EUR' }, state({ payment: payment('APPROVED') }), now);
    expect(d.balance).toEqual({ customerId: 'c1', kind: 'refund', delta: 300, at: now });
    expect(d.payment).toMatchObject({ status: 'REFUNDED', refundedAmount: 300, updatedAt: now });
    expect(d.reply).toEqual({ eventType: 'PAYMENT_REFUNDED', data: { amount: 300, currency: 'EUR' } });
    const again = decidePayment({ type: 'refund' }, state({ payment: d.payment! }), now);
    expect(again.balance).toBeUndefined();
    expect(again.payment).toBeUndefined();
    expect(again.reply).toEqual({ eventType: 'PAYMENT_REFUNDED', data: { amount: 300, currency: 'EUR' } });
  });
  it('declined: nothing to give back, answers 0', () => {
    const d = decidePayment({ type: 'refund', currency: 'EUR' }, state({ payment: payment('DECLINED') }), now);
    expect(d).toEqual({ reply: { eventType: 'PAYMENT_REFUNDED', data: { amount: 0, currency: 'EUR' } } });
  });
  it('before the payment: stores a marker and answers 0 in the requested currency', () => {
    expect(decidePayment({ type: 'refund', currency: 'GBP' }, state(), now)).toEqual({
      storeMarker: true,
      reply: { eventType: 'PAYMENT_REFUNDED', data: { amount: 0, currency: 'GBP' } },
    });
  });
  it('ORDER_CANCELLED before the payment: marker, no answer (the rollback request answers)', () => {
    expect(decidePayment({ type: 'refund' }, state(), now)).toEqual({ storeMarker: true, reply: undefined });
  });
});

describe('top-up (admin)', () => {
  const account = { customerId: 'c1', balance: 1000, currency: 'EUR' };
  it('adds the amount as a deposit', () => {
    expect(decideTopUp(account, { customerId: 'c1', amount: 250, currency: 'EUR' }, now)).toEqual({
      balance: { customerId: 'c1', kind: 'deposit', delta: 250, at: now },
      account: { customerId: 'c1', balance: 1250, currency: 'EUR' },
    });
  });
  it.each([
    ['UNKNOWN_CUSTOMER', null, { customerId: 'c1', amount: 1, currency: 'EUR' }],
    ['UNKNOWN_CUSTOMER', account, { customerId: 'c2', amount: 1, currency: 'EUR' }],
    ['CURRENCY_MISMATCH', account, { customerId: 'c1', amount: 1, currency: 'USD' }],
    ['BALANCE_LIMIT', { ...account, balance: MAX_BALANCE - 5 }, { customerId: 'c1', amount: 6, currency: 'EUR' }],
  ] as const)('refuses %s', (reason, acc, topUp) => {
    expect(decideTopUp(acc, topUp, now)).toEqual({ refused: reason });
  });
});

describe('account PUT (admin)', () => {
  const put = { customerId: 'c1', balance: 700, currency: 'EUR' };
  it('a new account: the whole balance is a set movement', () => {
    expect(decideAccountPut(null, put, now)).toEqual({
      account: put,
      balance: { customerId: 'c1', kind: 'set', delta: 700, at: now },
    });
  });
  it('an existing account: the difference is the movement; none when the balance stays', () => {
    const before = { customerId: 'c1', balance: 1000, currency: 'EUR' };
    expect(decideAccountPut(before, put, now).balance).toEqual({ customerId: 'c1', kind: 'set', delta: -300, at: now });
    expect(decideAccountPut(before, { ...put, balance: 1000, currency: 'GBP' }, now)).toEqual({
      account: { customerId: 'c1', balance: 1000, currency: 'GBP' },
    });
  });
});
