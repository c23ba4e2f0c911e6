import type { Change, OrderMessage } from '@commerce/kernel';
import { type ChargeCommand, decidePayment, type PaymentOrderState, type PaymentReply } from '../domain/payment.js';
import { paymentAnswer } from './orderMessage.js';
import type { PaymentDeps } from './ports.js';

/**
 * ORDER_CREATED: take the order's total from the customer's balance (PAYMENT_APPROVED), or decline it
 * (PAYMENT_DECLINED: unknown customer, another currency, not enough money). The customer's account is locked with
 * the order, so the decision is taken on the balance it changes.
 */
export function chargePayment(
  deps: PaymentDeps,
  message: OrderMessage,
  charge: ChargeCommand,
): Change<PaymentOrderState, PaymentReply | undefined> {
  return paymentAnswer(deps, message, charge.customerId, (state, now) => decidePayment(charge, state, now));
}
