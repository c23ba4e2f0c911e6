import { CONSUMER_QUEUES } from '@commerce/contracts';
import { type Decision, type InboxRecord, outgoingMessage, rollbackMarker, type Write } from '@commerce/kernel';
import type { PaymentDecision, PaymentReply } from '../domain/payment.js';
import type { PaymentDeps } from './ports.js';

/** Consumer name in the inbox, and the queue it reads (saga-protocol.md). */
export const PAYMENT_CONSUMER = CONSUMER_QUEUES.payment;

/** The order message a change of payment answers. */
export interface OrderMessage {
  orderId: string;
  /** The message's eventId: its inbox record and its answer's causationId. */
  eventId: string;
  traceparent?: string;
}

export function inboxOf(message: OrderMessage): InboxRecord {
  return { consumer: PAYMENT_CONSUMER, messageId: message.eventId };
}

/**
 * The effect of a payment decision: the balance change with its movement, the payment row, the rollback marker and
 * the answer on payment_events, all in the order message's transaction. The result is the answer (if any).
 */
export function answerOrderMessage(
  deps: PaymentDeps,
  message: OrderMessage,
  decision: PaymentDecision,
  now: Date,
): Decision<PaymentReply | undefined> {
  const { orderId } = message;
  const writes: Write[] = [];
  if (decision.balance) writes.push(...deps.store.changeBalance(decision.balance, orderId));
  if (decision.payment) writes.push(deps.store.savePayment(orderId, decision.payment));
  if (decision.storeMarker) writes.push(rollbackMarker(orderId, message.eventId, now));
  const { reply } = decision;
  const outbox = reply
    ? [
        outgoingMessage({
          eventId: deps.newId(),
          eventType: reply.eventType,
          orderId,
          data: reply.data,
          occurredAt: now,
          causationId: message.eventId,
          source: 'payment',
          traceparent: message.traceparent,
        }),
      ]
    : [];
  return { effect: { writes, outbox }, result: reply };
}
