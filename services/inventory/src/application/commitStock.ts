import type { Change, OrderMessage } from '@commerce/kernel';
import {
  type CommitCommand,
  decideInventory,
  type InventoryOrderState,
  type InventoryReply,
} from '../domain/reservation.js';
import { inventoryAnswer } from './orderMessage.js';
import type { InventoryDeps } from './ports.js';

/**
 * ORDER_CONFIRMED: the reserved stock is sold, once (INVENTORY_COMMITTED). A reservation released meanwhile (expired,
 * say) commits nothing and is answered INVENTORY_RELEASED, so that the order does not stay CONFIRMED. The products
 * are not read first: their counts change in productId order, the order a reservation locks them in.
 */
export function commitStock(
  deps: InventoryDeps,
  message: OrderMessage,
  commit: CommitCommand,
): Change<InventoryOrderState, InventoryReply | undefined> {
  return inventoryAnswer(deps, message, [], (state, now) => decideInventory(commit, state, now));
}
