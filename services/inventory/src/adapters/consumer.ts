/** Inventory's consumer: the order messages it answers, each committed with its inbox record. */
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
import { commitStock } from '../application/commitStock.js';
import { holdStockForReview } from '../application/holdStock.js';
import { INVENTORY_CONSUMER } from '../application/orderMessage.js';
import type { InventoryDeps } from '../application/ports.js';
import { releaseStock } from '../application/releaseStock.js';
import { reserveStock } from '../application/reserveStock.js';
import { restockReturn } from '../application/restockReturn.js';
import type { InventoryCommand, InventoryOrderState, InventoryReply, OrderLine } from '../domain/reservation.js';
import type { RestockReply, RestockState } from '../domain/returnRestock.js';

/** The order events inventory reacts to (saga-protocol.md). */
export const INVENTORY_BINDINGS = [...CONSUMER_BINDINGS.inventory];

type ConsumerContext = Pick<ServiceContext, 'db' | 'dedup'>;

/** The order message as the decider's command; undefined when inventory has nothing to do with it. */
export function inventoryCommandOf(e: Envelope, ttlMs: number): InventoryCommand | undefined {
  const data = e.data as Record<string, unknown>;
  switch (e.eventType) {
    case 'ORDER_CREATED':
      return { type: 'reserve', currency: String(data.currency), items: data.items as OrderLine[], ttlMs };
    case 'ORDER_CONFIRMED':
      return { type: 'commit' };
    case 'ORDER_INVENTORY_ROLLBACK_REQUESTED':
      return { type: 'release' };
    case 'ORDER_CANCELLED':
      return data.requiresInventoryRollback === true ? { type: 'release' } : undefined;
    default:
      return undefined;
  }
}

/** The change one order message asks for; undefined when inventory has nothing to do with it. */
export function inventoryChangeOf(
  deps: InventoryDeps,
  delivery: { envelope: Envelope; traceparent?: string },
):
  | Change<InventoryOrderState, InventoryReply | undefined>
  | Change<RestockState, RestockReply | undefined>
  | undefined {
  const e = delivery.envelope;
  const message = orderMessageOf(delivery);
  if (e.eventType === 'ORDER_RETURN_REQUESTED') {
    const data = e.data as { returnId: string; items: OrderLine[] };
    return restockReturn(deps, message, { type: 'restock', returnId: data.returnId, items: data.items });
  }
  const command = inventoryCommandOf(e, deps.reservationTtlMs);
  if (e.eventType === 'ORDER_UNDER_REVIEW') {
    const due = new Date(String((e.data as { reviewDueAt?: unknown }).reviewDueAt));
    return Number.isNaN(due.getTime()) ? undefined : holdStockForReview(deps, message, due);
  }
  switch (command?.type) {
    case 'reserve':
      return reserveStock(deps, message, command);
    case 'commit':
      return commitStock(deps, message, command);
    case 'release':
      return releaseStock(deps, message, command);
    default:
      // Expiry is the sweeper's, never a message's.
      return undefined;
  }
}

/**
 * Handles one order message exactly once: inbox row, stock change, movements, reservation and the answer's outbox
 * row commit together. Returns the answer (undefined: a duplicate, or nothing to answer).
 */
export function handleInventoryOrderEvent(
  deps: InventoryDeps,
  ctx: ConsumerContext,
  delivery: Pick<Delivery, 'envelope' | 'traceparent' | 'redelivered'>,
): Promise<InventoryReply | RestockReply | undefined> {
  return commitOrderMessage<unknown, InventoryReply | RestockReply | undefined>(
    ctx,
    inventoryChangeOf(deps, delivery),
    delivery,
  );
}

/** Subscribes inventory to the order messages it answers. */
export function subscribeInventory(
  ctx: ConsumerContext & Pick<ServiceContext, 'bus'>,
  deps: InventoryDeps,
  o: { maxAttempts: number },
): Promise<Subscription> {
  return subscribeOrderMessages<unknown, InventoryReply | RestockReply | undefined>(ctx, {
    queue: INVENTORY_CONSUMER,
    bindings: INVENTORY_BINDINGS,
    maxAttempts: o.maxAttempts,
    changeOf: (delivery) => inventoryChangeOf(deps, delivery),
  });
}
