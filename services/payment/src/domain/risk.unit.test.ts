import { describe, expect, it } from 'vitest';
import type { PaymentOrderState } from './payment.js';
import {
  assessRisk,
  type CustomerHistory,
  RISK_OFF,
  type RiskOrder,
  type RiskSignal,
  RULE_SCORES,
  riskRulesEnabled,
} from './risk.js';
import { decideCapture, decideRelease, decideRiskCharge, REVIEW_NOT_APPROVED } from './riskPayment.js';

const ON = {
  ...RISK_OFF,
  amountLimit: 10_000,
  firstOrderLimit: 5_000,
  velocityWindowMs: 60_000,
  velocityMaxOrders: 3,
  velocityMaxAmount: 20_000,
  maxProductQuantity: 10,
};
const order = (amount: number, quantity = 1): RiskOrder => ({
  customerId: 'c-1',
  amount,
  items: [{ productId: 'p-1', quantity }],
});
const known: CustomerHistory = { priorOrders: 5, ordersInWindow: 0, amountInWindow: 0 };
const first: CustomerHistory = { priorOrders: 0, ordersInWindow: 0, amountInWindow: 0 };

describe('risk rules (table)', () => {
  it.each([
    ['an ordinary order', order(1_000), known, 'approve', 0, []],
    ['amount over RISK_AMOUNT_LIMIT', order(10_001), known, 'review', 60, ['RISK_AMOUNT']],
    ['amount at the limit', order(10_000), known, 'approve', 0, []],
    ['first order over RISK_FIRST_ORDER_LIMIT', order(5_001), first, 'review', 50, ['RISK_FIRST_ORDER']],
    ['a later order over the first-order limit', order(5_001), known, 'approve', 0, []],
    [
      'the 4th order in the window (max 3)',
      order(100),
      { priorOrders: 9, ordersInWindow: 3, amountInWindow: 300 },
      'review',
      50,
      ['RISK_VELOCITY'],
    ],
    [
      'the 3rd order in the window',
      order(100),
      { priorOrders: 9, ordersInWindow: 2, amountInWindow: 200 },
      'approve',
      0,
      [],
    ],
    [
      'value in the window over RISK_VELOCITY_MAX_AMOUNT',
      order(5_000),
      { priorOrders: 9, ordersInWindow: 1, amountInWindow: 15_001 },
      'review',
      50,
      ['RISK_VELOCITY'],
    ],
    [
      'quantity over RISK_MAX_PRODUCT_QUANTITY alone',
      order(1_000, 11),
      known,
      'approve',
      30,
      ['RISK_PRODUCT_QUANTITY'],
    ],
    [
      'quantity with a first order',
      order(5_001, 11),
      first,
      'review',
      80,
      ['RISK_FIRST_ORDER', 'RISK_PRODUCT_QUANTITY'],
    ],
    ['amount and first order', order(10_001), first, 'reject', 110, ['RISK_AMOUNT', 'RISK_FIRST_ORDER']],
    [
      'amount and velocity',
      order(10_001),
      { priorOrders: 9, ordersInWindow: 3, amountInWindow: 0 },
      'reject',
      110,
      ['RISK_AMOUNT', 'RISK_VELOCITY'],
    ],
  ] as const)('%s → %s (score %i)', (_n, o, h, decision, score, rules) => {
    const a = assessRisk(o, h, ON);
    expect(a.decision).toBe(decision);
    expect(a.score).toBe(score);
    expect(a.reasons.map((r) => r.split(':')[0])).toEqual(rules);
  });

  it('every rule is off with the defaults: nothing trips, everything approves', () => {
    expect(riskRulesEnabled(RISK_OFF)).toBe(false);
    expect(assessRisk(order(999_999_999, 1000), first, RISK_OFF)).toEqual({
      decision: 'approve',
      score: 0,
      reasons: [],
    });
    expect(riskRulesEnabled(ON)).toBe(true);
  });

  it('the thresholds decide: RISK_REVIEW_SCORE and RISK_REJECT_SCORE are settings', () => {
    expect(assessRisk(order(10_001), known, { ...ON, reviewScore: 61 }).decision).toBe('approve');
    expect(assessRisk(order(10_001), known, { ...ON, rejectScore: 60 }).decision).toBe('reject');
  });

  it('a model plugs in as a signal: its score adds to the rules’', () => {
    const model: RiskSignal = { rule: 'MODEL', score: 45, reason: 'RISK_MODEL: 0.91 fraud probability' };
    const a = assessRisk(order(10_001), known, ON, [model]);
    expect(a).toEqual({
      decision: 'reject',
      score: RULE_SCORES.AMOUNT + 45,
      reasons: [expect.any(String), model.reason],
    });
  });
});

describe('payment with the risk step', () => {
  const now = new Date('2026-03-01T10:00:00Z');
  const account = { customerId: 'c-1', balance: 50_000, currency: 'EUR' };
  const base: PaymentOrderState = { account, payment: null, rollbackMarker: false };
  const charge = (amount: number) => ({
    type: 'charge' as const,
    customerId: 'c-1',
    amount,
    currency: 'EUR',
    items: order(amount).items,
  });

  it('approve charges as before', () => {
    const d = decideRiskCharge(charge(1_000), { ...base, history: known }, now, ON);
    expect(d.reply?.eventType).toBe('PAYMENT_APPROVED');
    expect(d.balance?.delta).toBe(-1_000);
  });
  it('review holds the payment, takes nothing and asks for a review with the reasons', () => {
    const d = decideRiskCharge(charge(10_001), { ...base, history: known }, now, ON);
    expect(d.balance).toBeUndefined();
    expect(d.payment).toMatchObject({ status: 'HELD', amount: 10_001, refundedAmount: 0 });
    expect(d.reply).toEqual({
      eventType: 'PAYMENT_REVIEW_REQUIRED',
      data: { score: 60, reasons: [expect.stringMatching(/^RISK_AMOUNT/)] },
    });
  });
  it('reject declines with RISK_REJECTED and the reasons, taking nothing', () => {
    const d = decideRiskCharge(charge(10_001), { ...base, history: first }, now, ON);
    expect(d.balance).toBeUndefined();
    expect(d.payment).toMatchObject({ status: 'DECLINED', reason: 'RISK_REJECTED' });
    expect(d.reply).toMatchObject({ eventType: 'PAYMENT_DECLINED', data: { reason: 'RISK_REJECTED' } });
    expect((d.reply as { data: { riskReasons: string[] } }).data.riskReasons).toHaveLength(2);
  });
  it('an unknown customer is declined as before, whatever the rules', () => {
    const d = decideRiskCharge(charge(10_001), { ...base, account: null, history: first }, now, ON);
    expect(d.reply).toEqual({ eventType: 'PAYMENT_DECLINED', data: { reason: 'UNKNOWN_CUSTOMER' } });
  });
  it('a second ORDER_CREATED (another message id) changes nothing', () => {
    const held = decideRiskCharge(charge(10_001), { ...base, history: known }, now, ON).payment!;
    expect(decideRiskCharge(charge(10_001), { ...base, payment: held, history: known }, now, ON)).toEqual({});
  });
  const held = decideRiskCharge(charge(10_001), { ...base, history: known }, now, ON).payment!;
  const capture = { type: 'capture' as const, customerId: 'c-1', amount: 10_001, currency: 'EUR' };
  it('the approval captures a held payment once', () => {
    const d = decideCapture(capture, { ...base, payment: held }, now);
    expect(d.reply?.eventType).toBe('PAYMENT_APPROVED');
    expect(d.balance?.delta).toBe(-10_001);
    expect(decideCapture(capture, { ...base, payment: d.payment! }, now)).toEqual({});
  });
  it('the approval declines when the balance no longer covers it', () => {
    const d = decideCapture(capture, { ...base, account: { ...account, balance: 10 }, payment: held }, now);
    expect(d.reply).toEqual({ eventType: 'PAYMENT_DECLINED', data: { reason: 'INSUFFICIENT_FUNDS' } });
  });
  it('a refund releases a held payment (0 given back); a capture after it takes nothing', () => {
    const d = decideRelease({ type: 'refund' }, { ...base, payment: held }, now);
    expect(d.reply).toEqual({ eventType: 'PAYMENT_REFUNDED', data: { amount: 0, currency: 'EUR' } });
    expect(d.payment).toMatchObject({ status: 'DECLINED', reason: REVIEW_NOT_APPROVED });
    expect(decideCapture(capture, { ...base, payment: d.payment! }, now)).toEqual({});
    // Again: answered again, nothing changes.
    expect(decideRelease({ type: 'refund' }, { ...base, payment: d.payment! }, now).balance).toBeUndefined();
  });
});
