import type { Write } from '@commerce/kernel';
import type { OrderState } from '../domain/index.js';
import type { OrderDeps } from './ports.js';

/**
 * The deadline follows the review: entering UNDER_REVIEW sets it to the review's due time (REVIEW_TIMEOUT_MS, in
 * place of the saga timeout, so SAGA_TIMEOUT_MS never cancels a held order); an approval gives the order a fresh
 * saga timeout for payment's capture; leaving the review any other way clears it.
 */
export function reviewDeadlineWrites(
  deps: OrderDeps,
  orderId: string,
  before: OrderState,
  state: OrderState,
  now: Date,
): Write[] {
  const entered = state.status === 'UNDER_REVIEW' && before.status !== 'UNDER_REVIEW';
  if (entered && state.review?.dueAt) return [deps.store.setDeadline(orderId, 'saga', new Date(state.review.dueAt))];
  if (before.status !== 'UNDER_REVIEW' || state.status === 'UNDER_REVIEW') return [];
  if (state.status === 'PENDING')
    return [deps.store.setDeadline(orderId, 'saga', new Date(now.getTime() + deps.sagaTimeoutMs))];
  return [deps.store.clearDeadline(orderId, 'saga')];
}
