import type { Change, OrderMessage } from '@commerce/kernel';
import { type ChargeCommand, decidePayment, type PaymentOrderState, type PaymentReply } from '../domain/payment.js';
import { riskRulesEnabled } from '../domain/risk.js';
import { type CaptureCommand, decideCapture, decideRiskCharge, type RiskChargeCommand } from '../domain/riskPayment.js';
import { paymentAnswer } from './orderMessage.js';
import type { PaymentDeps } from './ports.js';

/**
 * ORDER_CREATED: take the order's total from the customer's balance (PAYMENT_APPROVED), or decline it
 * (PAYMENT_DECLINED: unknown customer, another currency, not enough money). The customer's account is locked with
 * the order, so the decision is taken on the balance it changes. With risk rules on (docs/risk.md) the order is
 * assessed first, on the customer's history read under the same lock: approve charges, reject declines
 * (RISK_REJECTED), review holds it (PAYMENT_REVIEW_REQUIRED). A risk model that needs I/O would be called here,
 * before the change, and its answer passed to decideRiskCharge as a signal.
 */
export function chargePayment(
  deps: PaymentDeps,
  message: OrderMessage,
  charge: ChargeCommand | RiskChargeCommand,
): Change<PaymentOrderState, PaymentReply | undefined> {
  const risk = deps.risk;
  if (!risk || !riskRulesEnabled(risk) || !('items' in charge))
    return paymentAnswer(deps, message, charge.customerId, (state, now) => decidePayment(charge, state, now));
  return paymentAnswer(deps, message, charge.customerId, (state, now) => decideRiskCharge(charge, state, now, risk), {
    windowMs: risk.velocityWindowMs,
  });
}

/** ORDER_REVIEW_APPROVED: charge the held payment now, on the balance it finds (the account locked with the order). */
export function capturePayment(
  deps: PaymentDeps,
  message: OrderMessage,
  capture: CaptureCommand,
): Change<PaymentOrderState, PaymentReply | undefined> {
  return paymentAnswer(deps, message, capture.customerId, (state, now) => decideCapture(capture, state, now));
}
