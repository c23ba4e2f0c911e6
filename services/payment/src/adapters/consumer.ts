/** Payment's consumer: the order messages it answers, each committed with its inbox record. */
import { CONSUMER_BINDINGS, type Envelope } from '@commerce/contracts';
import {
  type Change,
  commitOrderMessage,
  type Delivery,
  orderMessageOf,
  type ServiceContext,
  type Subscription,
  subscribeOrderMessages,
} from '@commerce/kernel';
import { capturePayment, chargePayment } from '../application/chargePayment.js';
import { PAYMENT_CONSUMER } from '../application/orderMessage.js';
import type { PaymentDeps } from '../application/ports.js';
import { refundPayment } from '../application/refundPayment.js';
import { refundReturn } from '../application/refundReturn.js';
import type { PartialRefundReply, PartialRefundState } from '../domain/partialRefund.js';
import type { PaymentCommand, PaymentOrderState, PaymentReply } from '../domain/payment.js';
import type { CaptureCommand, RiskChargeCommand } from '../domain/riskPayment.js';

/** The order events payment reacts to (saga-protocol.md). */
export const PAYMENT_BINDINGS = [...CONSUMER_BINDINGS.payment];

type ConsumerContext = Pick<ServiceContext, 'db' | 'dedup'>;

/** The order message as the decider's command; undefined when payment has nothing to do with it. */
export function paymentCommandOf(e: Envelope): PaymentCommand | RiskChargeCommand | CaptureCommand | undefined {
  const data = e.data as Record<string, unknown>;
  switch (e.eventType) {
    case 'ORDER_CREATED':
      return {
        type: 'charge',
        customerId: String(data.customerId),
        amount: Number(data.totalAmount),
        currency: String(data.currency),
        // What the risk rules read (docs/risk.md).
        items: Array.isArray(data.items)
          ? (data.items as { productId: unknown; quantity: unknown }[]).map((i) => ({
              productId: String(i.productId),
              quantity: Number(i.quantity),
            }))
          : [],
      };
    case 'ORDER_REVIEW_APPROVED':
      return {
        type: 'capture',
        customerId: String(data.customerId),
        amount: Number(data.amount),
        currency: String(data.currency),
      };
    case 'ORDER_PAYMENT_ROLLBACK_REQUESTED':
      return { type: 'refund', currency: String(data.currency) };
    case 'ORDER_CANCELLED':
      return data.requiresRefund === true ? { type: 'refund' } : undefined;
    default:
      return undefined;
  }
}

/** The change one order message asks for; undefined when payment has nothing to do with it. */
export function paymentChangeOf(
  deps: PaymentDeps,
  delivery: { envelope: Envelope; traceparent?: string },
):
  | Change<PaymentOrderState, PaymentReply | undefined>
  | Change<PartialRefundState, PartialRefundReply | undefined>
  | undefined {
  const e = delivery.envelope;
  if (e.eventType === 'ORDER_RETURN_REFUND_REQUESTED') {
    const d = e.data as { returnId: string; customerId: string; amount: number; currency: string };
    return refundReturn(deps, orderMessageOf(delivery), { type: 'partialRefund', ...d });
  }
  const command = paymentCommandOf(e);
  if (!command) return undefined;
  const message = orderMessageOf(delivery);
  if (command.type === 'capture') return capturePayment(deps, message, command);
  return command.type === 'charge' ? chargePayment(deps, message, command) : refundPayment(deps, message, command);
}

/**
 * Handles one order message exactly once: inbox row, balance change, money movement, payment row and the answer's
 * outbox row commit together. Returns the answer (undefined: a duplicate, or nothing to answer).
 */
export function handlePaymentOrderEvent(
  deps: PaymentDeps,
  ctx: ConsumerContext,
  delivery: Pick<Delivery, 'envelope' | 'traceparent' | 'redelivered'>,
): Promise<PaymentReply | PartialRefundReply | undefined> {
  return commitOrderMessage<unknown, PaymentReply | PartialRefundReply | undefined>(
    ctx,
    paymentChangeOf(deps, delivery),
    delivery,
  );
}

/** Subscribes payment to the order messages it answers. */
export function subscribePayment(
  ctx: ConsumerContext & Pick<ServiceContext, 'bus'>,
  deps: PaymentDeps,
  o: { maxAttempts: number },
): Promise<Subscription> {
  return subscribeOrderMessages<unknown, PaymentReply | PartialRefundReply | undefined>(ctx, {
    queue: PAYMENT_CONSUMER,
    bindings: PAYMENT_BINDINGS,
    maxAttempts: o.maxAttempts,
    changeOf: (delivery) => paymentChangeOf(deps, delivery),
  });
}
