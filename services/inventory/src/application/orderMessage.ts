import { CONSUMER_QUEUES } from '@commerce/contracts';
import {
  type Change,
  type OrderMessage,
  orderMessageChange,
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
    source: 'inventory',
    message,
    now: deps.now,
    newId: deps.newId,
    load: (reader: Queryable) => deps.store.loadOrder(reader, message.orderId, productIds),
    decide: (state, now) => {
      const decision = decide(state, now);
      return { writes: reservationWrites(deps, message.orderId, decision, now, message), reply: decision.reply };
    },
  });
}

/**
 * What a decision about one order writes: its stock changes with their movements, the reservation and the rollback
 * marker (caused by `message`; none: the sweeper's). Its answer on inventory_events is the caller's.
 */
export function reservationWrites(
  deps: Pick<InventoryDeps, 'store'>,
  orderId: string,
  decision: InventoryDecision,
  now: Date,
  message?: OrderMessage,
): Write[] {
  const writes: Write[] = [];
  if (decision.stock.length > 0) writes.push(...deps.store.changeStock(decision.stock, orderId, now));
  if (decision.reservation) writes.push(deps.store.saveReservation(orderId, decision.reservation, now));
  if (decision.storeMarker) writes.push(rollbackMarker(orderId, message?.eventId ?? null, now));
  return writes;
}
