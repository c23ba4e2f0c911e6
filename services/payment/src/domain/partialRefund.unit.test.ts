import { describe, expect, it } from 'vitest';
import { decidePartialRefund, type PartialRefundState, type ReturnRefund } from './partialRefund.js';
import type { Payment } from './payment.js';

const R1 = '11111111-2222-4333-8444-555555555555';
const R2 = '11111111-2222-4333-8444-666666666666';
const NOW = new Date('2026-03-01T10:00:00.000Z');
const paid: Payment = {
  customerId: 'c-1',
  amount: 3000,
  currency: 'EUR',
  status: 'APPROVED',
  reason: null,
  refundedAmount: 0,
  updatedAt: NOW,
};
const state = (payment: Payment | null = paid, refunds = new Map<string, ReturnRefund>()): PartialRefundState => ({
  payment,
  refunds,
});
const ask = (returnId: string, amount: number, currency = 'EUR') => ({
  type: 'partialRefund' as const,
  returnId,
  customerId: 'c-1',
  amount,
  currency,
});

describe('refunding a return (decidePartialRefund)', () => {
  it('gives the amount back to the customer who paid, once, and the payment stays APPROVED', () => {
    const d = decidePartialRefund(ask(R1, 1250), state(), NOW);
    expect(d.balance).toEqual({ customerId: 'c-1', kind: 'return_refund', delta: 1250, at: NOW });
    expect(d.payment).toMatchObject({ status: 'APPROVED', amount: 3000, refundedAmount: 1250 });
    expect(d.reply).toEqual({
      eventType: 'PAYMENT_PARTIALLY_REFUNDED',
      data: { returnId: R1, amount: 1250, currency: 'EUR' },
    });
    const again = decidePartialRefund(ask(R1, 1250), state(d.payment, new Map([[R1, d.refund!]])), NOW);
    expect(again).toEqual({ reply: d.reply });
  });

  it('several returns refund up to what was paid, to the cent, never more', () => {
    const first = decidePartialRefund(ask(R1, 2999), state(), NOW);
    const after = state(first.payment, new Map([[R1, first.refund!]]));
    expect(decidePartialRefund(ask(R2, 1), after, NOW).payment?.refundedAmount).toBe(3000);
    const over = decidePartialRefund(ask(R2, 2), after, NOW);
    expect(over.balance).toBeUndefined();
    expect(over.reply).toEqual({
      eventType: 'PAYMENT_PARTIAL_REFUND_FAILED',
      data: { returnId: R2, reason: 'EXCEEDS_PAID' },
    });
  });

  it.each([
    ['nothing was paid', state(null), 'NOT_PAID'],
    ['the payment was declined', state({ ...paid, status: 'DECLINED' }), 'NOT_PAID'],
    ['the order was refunded whole', state({ ...paid, status: 'REFUNDED', refundedAmount: 3000 }), 'NOT_PAID'],
    ['another customer paid', state({ ...paid, customerId: 'c-2' }), 'NOT_PAID'],
  ])('refuses when %s, moving no money', (_n, s, reason) => {
    const d = decidePartialRefund(ask(R1, 100), s, NOW);
    expect(d.balance).toBeUndefined();
    expect(d.reply.data).toMatchObject({ reason });
  });

  it('refuses another currency than the payment', () => {
    expect(decidePartialRefund(ask(R1, 100, 'USD'), state(), NOW).reply.data).toMatchObject({
      reason: 'CURRENCY_MISMATCH',
    });
  });
});
