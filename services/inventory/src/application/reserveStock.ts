import type { Change, OrderMessage } from '@commerce/kernel';
import {
  decideInventory,
  type InventoryOrderState,
  type InventoryReply,
  type ReserveCommand,
} from '../domain/reservation.js';
import { inventoryAnswer } from './orderMessage.js';
import type { InventoryDeps } from './ports.js';

/**
 * ORDER_CREATED: reserve every line until RESERVATION_TTL_MS from now (INVENTORY_RESERVED), or reserve nothing
 * (INVENTORY_RESERVATION_FAILED: an unknown product, another price or currency, not enough stock). The products are
 * locked with the order, so the decision is taken on the stock it changes. After a rollback that came first:
 * nothing reserved, INVENTORY_RELEASED.
 */
export function reserveStock(
  deps: InventoryDeps,
  message: OrderMessage,
  reserve: ReserveCommand,
): Change<InventoryOrderState, InventoryReply | undefined> {
  return inventoryAnswer(
    deps,
    message,
    reserve.items.map((l) => l.productId),
    (state, now) => decideInventory(reserve, state, now),
  );
}
