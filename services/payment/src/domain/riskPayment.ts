/**
 * The risk step as a module of payment (docs/risk.md): before a charge, the order is assessed (risk.ts). Approve
 * charges as before; reject declines it (PAYMENT_DECLINED RISK_REJECTED, with the rules' reasons), the saga's
 * declined-payment path; review holds it (payment HELD, nothing taken, PAYMENT_REVIEW_REQUIRED) until the order
 * service's ORDER_REVIEW_APPROVED captures it, or its cancellation releases it. Pure, like payment.ts.
 */
import {
  type ChargeCommand,
  decidePayment,
  type PaymentDecision,
  type PaymentOrderState,
  type RefundCommand,
} from './payment.js';
import { assessRisk, type CustomerHistory, type RiskSettings, type RiskSignal } from './risk.js';

/** Reason stored on a held payment, and on one released without a capture. */
export const HELD_FOR_REVIEW = 'RISK_REVIEW';
export const REVIEW_NOT_APPROVED = 'REVIEW_NOT_APPROVED';

/** ORDER_CREATED with what the rules read: its lines. */
export interface RiskChargeCommand extends ChargeCommand {
  items: readonly { productId: string; quantity: number }[];
}
/** ORDER_REVIEW_APPROVED: take the held amount now. */
export interface CaptureCommand {
  type: 'capture';
  customerId: string;
  amount: number;
  currency: string;
}

/** The order's payment state and, for a charge with rules on, the customer's history (read under its lock). */
export interface RiskPaymentState extends PaymentOrderState {
  history?: CustomerHistory;
}

const NOTHING: PaymentDecision = {};

export function decideRiskCharge(
  cmd: RiskChargeCommand,
  state: RiskPaymentState,
  now: Date,
  settings: RiskSettings,
  signals: readonly RiskSignal[] = [],
): PaymentDecision {
  const charge: ChargeCommand = {
    type: 'charge',
    customerId: cmd.customerId,
    amount: cmd.amount,
    currency: cmd.currency,
  };
  const a = state.account;
  // Decided already, undone first, no history (rules off), or a charge that declines anyway: as before.
  if (state.payment || state.rollbackMarker || !state.history || !a || a.customerId !== cmd.customerId)
    return decidePayment(charge, state, now);
  if (a.currency !== cmd.currency) return decidePayment(charge, state, now);
  const risk = assessRisk(
    { customerId: cmd.customerId, amount: cmd.amount, items: cmd.items },
    state.history,
    settings,
    signals,
  );
  if (risk.decision === 'approve') return decidePayment(charge, state, now);
  const base = {
    customerId: cmd.customerId,
    amount: cmd.amount,
    currency: cmd.currency,
    updatedAt: now,
    refundedAmount: 0,
  };
  if (risk.decision === 'reject')
    return {
      payment: { ...base, status: 'DECLINED', reason: 'RISK_REJECTED' },
      reply: {
        eventType: 'PAYMENT_DECLINED',
        data: { reason: 'RISK_REJECTED', riskReasons: risk.reasons.slice(0, 20) },
      },
    };
  return {
    payment: { ...base, status: 'HELD', reason: HELD_FOR_REVIEW },
    reply: { eventType: 'PAYMENT_REVIEW_REQUIRED', data: { score: risk.score, reasons: risk.reasons.slice(0, 20) } },
  };
}

/** The approval: a HELD payment is charged now (approved, or declined for the balance it finds); else nothing. */
export function decideCapture(cmd: CaptureCommand, state: PaymentOrderState, now: Date): PaymentDecision {
  const p = state.payment;
  // Not held (released by a cancellation first, or captured already): the first outcome stands.
  if (p?.status !== 'HELD') return NOTHING;
  return decidePayment(
    { type: 'charge', customerId: cmd.customerId, amount: cmd.amount, currency: cmd.currency },
    { ...state, payment: null, rollbackMarker: false },
    now,
  );
}

/** A refund of a HELD payment releases it: nothing was taken, the refund answers 0 and a late capture does nothing. */
export function decideRelease(cmd: RefundCommand, state: PaymentOrderState, now: Date): PaymentDecision {
  const p = state.payment;
  if (p?.status !== 'HELD') return decidePayment(cmd, state, now);
  return {
    payment: { ...p, status: 'DECLINED', reason: REVIEW_NOT_APPROVED, updatedAt: now },
    reply: { eventType: 'PAYMENT_REFUNDED', data: { amount: 0, currency: p.currency } },
  };
}
