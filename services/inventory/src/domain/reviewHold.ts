/**
 * An order held for a risk review (ORDER_UNDER_REVIEW, docs/risk.md) keeps its stock: its reservation's expiry moves
 * to the review's deadline plus RESERVATION_TTL_MS, so that the sweeper does not release it while a person decides
 * (the order service rejects the order at the deadline, and its cancellation releases the stock). Pure.
 */
import type { InventoryDecision, InventoryOrderState } from './reservation.js';

export function decideReviewHold(state: InventoryOrderState, reviewDueAt: Date, ttlMs: number): InventoryDecision {
  const r = state.reservation;
  const until = new Date(reviewDueAt.getTime() + ttlMs);
  // Only a live reservation is kept longer; never shortened (a duplicate changes nothing). No reservation yet (the
  // hold overtook ORDER_CREATED): the reservation made later has its own TTL, and if it expires before an approval
  // the confirmation is answered INVENTORY_RELEASED and the saga refunds, as for any expired reservation.
  if (r?.status !== 'RESERVED' || r.expiresAt.getTime() >= until.getTime()) return { stock: [] };
  return { stock: [], reservation: { ...r, expiresAt: until } };
}
