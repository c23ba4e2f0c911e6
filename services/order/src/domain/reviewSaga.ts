/** The saga's decisions for the risk review (docs/risk.md), on the order's state: pure, time given. */
import type { EventData } from '@commerce/contracts';
import type { OrderState, OrderStreamEvent } from './order.js';
import type { ReviewState } from './review.js';

/** Why a PAYMENT_REVIEW_REQUIRED is not recorded: payment already asked (duplicate) or already answered otherwise. */
export function reviewResultIgnoredBecause(state: OrderState): 'duplicate' | 'contradictory' | undefined {
  if (state.review !== null) return 'duplicate';
  return state.paymentAnswer === null ? undefined : 'contradictory';
}

/** A charge answer while the review is undecided cannot come from a correct payment: it holds the capture. */
export const awaitingReviewDecision = (state: OrderState) => state.review?.decision === 'PENDING';

/** After PAYMENT_REVIEW_REQUIRED is recorded on a PENDING order: wait for a person, until now + reviewTimeoutMs. */
export function holdForReview(after: OrderState, now: string, reviewTimeoutMs: number): OrderStreamEvent[] {
  const review = after.review as ReviewState;
  const reviewDueAt = new Date(Date.parse(now) + reviewTimeoutMs).toISOString();
  return [
    {
      type: 'ORDER_UNDER_REVIEW',
      occurredAt: now,
      data: { score: review.score, reasons: review.reasons.slice(0, 20), reviewDueAt },
    },
  ];
}

/** The approval: payment captures the held payment (its answer then decides the saga as it does today). */
export function approveReview(state: OrderState, now: string): OrderStreamEvent[] {
  return [
    {
      type: 'ORDER_REVIEW_APPROVED',
      occurredAt: now,
      data: {
        customerId: state.customerId,
        amount: state.totalAmount,
        currency: state.currency as EventData<'ORDER_REVIEW_APPROVED'>['currency'],
      },
    },
  ];
}

/** The rejection's own event: its trigger (who, or the timeout) first, then the risk rules' reasons. */
export function rejectReview(state: OrderState, trigger: string, now: string): OrderStreamEvent {
  const reasons = [trigger, ...(state.review?.reasons ?? []).filter((r) => r !== trigger)].slice(0, 20);
  return { type: 'ORDER_REVIEW_REJECTED', occurredAt: now, data: { reasons } };
}
