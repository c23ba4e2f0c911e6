import type { Change, OrderMessage } from '@commerce/kernel';
import {
  decideInventory,
  type InventoryOrderState,
  type InventoryReply,
  type ReleaseCommand,
} from '../domain/reservation.js';
import { inventoryAnswer } from './orderMessage.js';
import type { InventoryDeps } from './ports.js';

/**
 * ORDER_INVENTORY_ROLLBACK_REQUESTED, or ORDER_CANCELLED that requires a rollback: give the reserved or sold stock
 * back, once (INVENTORY_RELEASED, answered every time). Before any reservation, remember the rollback so that a late
 * ORDER_CREATED reserves nothing.
 */
export function releaseStock(
  deps: InventoryDeps,
  message: OrderMessage,
  release: ReleaseCommand,
): Change<InventoryOrderState, InventoryReply | undefined> {
  return inventoryAnswer(deps, message, [], (state, now) => decideInventory(release, state, now));
}
