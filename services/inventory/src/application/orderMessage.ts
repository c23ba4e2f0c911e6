import { CONSUMER_QUEUES } from '@commerce/contracts';
import {
  type Decision,
  type Effect,
  type InboxRecord,
  type OutgoingMessage,
  outgoingMessage,
  rollbackMarker,
  type Write,
} from '@commerce/kernel';
import type { InventoryDecision, InventoryReply } from '../domain/reservation.js';
import type { InventoryDeps } from './ports.js';

/** Consumer name in the inbox, and the queue it reads (saga-protocol.md). */
export const INVENTORY_CONSUMER = CONSUMER_QUEUES.inventory;

/** The order message a change of inventory answers. */
export interface OrderMessage {
  orderId: string;
  /** The message's eventId: its inbox record and its answer's causationId. */
  eventId: string;
  traceparent?: string;
}

export function inboxOf(message: OrderMessage): InboxRecord {
  return { consumer: INVENTORY_CONSUMER, messageId: message.eventId };
}

/** The effect of an inventory decision about an order message; the result is the answer (if any). */
export function answerOrderMessage(
  deps: Pick<InventoryDeps, 'store' | 'newId'>,
  message: OrderMessage,
  decision: InventoryDecision,
  now: Date,
): Decision<InventoryReply | undefined> {
  return { effect: reservationEffect(deps, message.orderId, decision, now, message), result: decision.reply };
}

/**
 * What a decision about one order writes: its stock changes with their movements, the reservation, the rollback
 * marker, and the answer on inventory_events, caused by `message` (none: the sweeper's).
 */
export function reservationEffect(
  deps: Pick<InventoryDeps, 'store' | 'newId'>,
  orderId: string,
  decision: InventoryDecision,
  now: Date,
  message?: OrderMessage,
): Required<Pick<Effect, 'writes' | 'outbox'>> {
  const causationId = message?.eventId ?? null;
  const writes: Write[] = [];
  if (decision.stock.length > 0) writes.push(...deps.store.changeStock(decision.stock, orderId, now));
  if (decision.reservation) writes.push(deps.store.saveReservation(orderId, decision.reservation, now));
  if (decision.storeMarker) writes.push(rollbackMarker(orderId, causationId, now));
  const { reply } = decision;
  const outbox: OutgoingMessage[] = reply
    ? [
        outgoingMessage({
          eventId: deps.newId(),
          eventType: reply.eventType,
          orderId,
          data: reply.data,
          occurredAt: now,
          causationId,
          source: 'inventory',
          traceparent: message?.traceparent,
        }),
      ]
    : [];
  return { writes, outbox };
}
