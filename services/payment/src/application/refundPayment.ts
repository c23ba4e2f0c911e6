import type { Change, OrderMessage } from '@commerce/kernel';
import type { PaymentOrderState, PaymentReply, RefundCommand } from '../domain/payment.js';
import { decideRelease } from '../domain/riskPayment.js';
import { paymentAnswer } from './orderMessage.js';
import type { PaymentDeps } from './ports.js';

/**
 * ORDER_PAYMENT_ROLLBACK_REQUESTED, or ORDER_CANCELLED that requires a refund: give back what was taken, once
 * (PAYMENT_REFUNDED); a payment held for review is released (nothing was taken). Before any payment, remember the rollback so that a late ORDER_CREATED takes nothing.
 */
export function refundPayment(
  deps: PaymentDeps,
  message: OrderMessage,
  refund: RefundCommand,
): Change<PaymentOrderState, PaymentReply | undefined> {
  return paymentAnswer(deps, message, undefined, (state, now) => decideRelease(refund, state, now));
}
