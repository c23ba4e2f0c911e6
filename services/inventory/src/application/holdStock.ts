import type { Change, OrderMessage } from '@commerce/kernel';
import type { InventoryOrderState, InventoryReply } from '../domain/reservation.js';
import { decideReviewHold } from '../domain/reviewHold.js';
import { inventoryAnswer } from './orderMessage.js';
import type { InventoryDeps } from './ports.js';

/** ORDER_UNDER_REVIEW: keep the order's reservation until its review deadline (plus the TTL); nothing is answered. */
export function holdStockForReview(
  deps: InventoryDeps,
  message: OrderMessage,
  reviewDueAt: Date,
): Change<InventoryOrderState, InventoryReply | undefined> {
  return inventoryAnswer(deps, message, [], (state) => decideReviewHold(state, reviewDueAt, deps.reservationTtlMs));
}
