import { CONSUMER_QUEUES } from '@commerce/contracts';
import {
  type Change,
  type Decision,
  type Effect,
  type OrderMessage,
  orderMessageChange,
  participantAnswer,
  type Queryable,
  rollbackMarker,
  type Write,
} from '@commerce/kernel';
import type { InventoryDecision, InventoryOrderState, InventoryReply } from '../domain/reservation.js';
import type { InventoryDeps } from './ports.js';

/** Consumer name in the inbox, and the queue it reads (saga-protocol.md). */
export const INVENTORY_CONSUMER = CONSUMER_QUEUES.inventory;

/**
 * Inventory's change for one order message: the order's state (with the stock of `productIds`, locked), the
 * decision at now, and its effect; the result is the answer (if any).
 */
export function inventoryAnswer(
  deps: InventoryDeps,
  message: OrderMessage,
  productIds: readonly string[],
  decide: (state: InventoryOrderState, now: Date) => InventoryDecision,
): Change<InventoryOrderState, InventoryReply | undefined> {
  return orderMessageChange({
    consumer: INVENTORY_CONSUMER,
    message,
    now: deps.now,
    load: (reader: Queryable) => deps.store.loadOrder(reader, message.orderId, productIds),
    decide: (state, now): Decision<InventoryReply | undefined> => {
      const decision = decide(state, now);
      return { effect: reservationEffect(deps, message.orderId, decision, now, message), result: decision.reply };
    },
  });
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
  const writes: Write[] = [];
  if (decision.stock.length > 0) writes.push(...deps.store.changeStock(decision.stock, orderId, now));
  if (decision.reservation) writes.push(deps.store.saveReservation(orderId, decision.reservation, now));
  if (decision.storeMarker) writes.push(rollbackMarker(orderId, message?.eventId ?? null, now));
  const outbox = participantAnswer({
    source: 'inventory',
    eventId: deps.newId(),
    orderId,
    reply: decision.reply,
    now,
    message,
  });
  return { writes, outbox };
}
