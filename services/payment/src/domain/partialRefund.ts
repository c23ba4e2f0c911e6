/**
 * Refunding a return (issue 21): ORDER_RETURN_REFUND_REQUESTED gives back the paid value of the returned units, in the
 * order's currency, to the customer who paid, once per return (PAYMENT_PARTIALLY_REFUNDED), or refuses with a reason
 * (PAYMENT_PARTIAL_REFUND_FAILED). Never more than was paid: Σ refunds ≤ the payment's amount. Pure: time is `now`.
 */
import type { BalanceChange, Payment } from './payment.js';

export type PartialRefundFailureReason = 'NOT_PAID' | 'CURRENCY_MISMATCH' | 'EXCEEDS_PAID';

/** What payment keeps of one return's refund, so that a duplicate request answers the same. */
export interface ReturnRefund {
  status: 'REFUNDED' | 'FAILED';
  amount: number;
  currency: string;
  reason: PartialRefundFailureReason | null;
}

export interface PartialRefundState {
  payment: Payment | null;
  /** The order's refunds of returns answered, by returnId. */
  refunds: ReadonlyMap<string, ReturnRefund>;
}

export interface PartialRefundCommand {
  type: 'partialRefund';
  returnId: string;
  customerId: string;
  amount: number;
  currency: string;
}

export type PartialRefundReply =
  | { eventType: 'PAYMENT_PARTIALLY_REFUNDED'; data: { returnId: string; amount: number; currency: string } }
  | { eventType: 'PAYMENT_PARTIAL_REFUND_FAILED'; data: { returnId: string; reason: PartialRefundFailureReason } };

export interface PartialRefundDecision {
  balance?: BalanceChange;
  payment?: Payment;
  /** The refund record to store (undefined: already stored). */
  refund?: ReturnRefund;
  reply: PartialRefundReply;
}

function replyOf(returnId: string, r: ReturnRefund): PartialRefundReply {
  return r.status === 'REFUNDED'
    ? { eventType: 'PAYMENT_PARTIALLY_REFUNDED', data: { returnId, amount: r.amount, currency: r.currency } }
    : {
        eventType: 'PAYMENT_PARTIAL_REFUND_FAILED',
        data: { returnId, reason: r.reason as PartialRefundFailureReason },
      };
}

function refusalOf(cmd: PartialRefundCommand, p: Payment | null): PartialRefundFailureReason | undefined {
  if (p?.status !== 'APPROVED' || p.customerId !== cmd.customerId) return 'NOT_PAID';
  if (p.currency !== cmd.currency) return 'CURRENCY_MISMATCH';
  if (p.refundedAmount + cmd.amount > p.amount) return 'EXCEEDS_PAID';
  return undefined;
}

export function decidePartialRefund(
  cmd: PartialRefundCommand,
  state: PartialRefundState,
  now: Date,
): PartialRefundDecision {
  const known = state.refunds.get(cmd.returnId);
  if (known) return { reply: replyOf(cmd.returnId, known) };
  const p = state.payment;
  const reason = refusalOf(cmd, p);
  if (reason || !p) {
    const refund: ReturnRefund = {
      status: 'FAILED',
      amount: 0,
      currency: cmd.currency,
      reason: reason ?? 'NOT_PAID',
    };
    return { refund, reply: replyOf(cmd.returnId, refund) };
  }
  const refund: ReturnRefund = { status: 'REFUNDED', amount: cmd.amount, currency: p.currency, reason: null };
  return {
    balance: { customerId: p.customerId, kind: 'return_refund', delta: cmd.amount, at: now },
    payment: { ...p, refundedAmount: p.refundedAmount + cmd.amount, updatedAt: now },
    refund,
    reply: replyOf(cmd.returnId, refund),
  };
}
