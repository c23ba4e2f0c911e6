/**
 * The order's side of the risk review (docs/risk.md): payment's risk step answers PAYMENT_REVIEW_REQUIRED instead of
 * charging, the order waits UNDER_REVIEW until an admin approves or rejects it, or until REVIEW_TIMEOUT_MS rejects
 * it. Pure: the state, the command and the time come in; the events to append go out.
 */
import type { EventData } from '@commerce/contracts';

/** What the order knows of its review: payment's score and reasons, the deadline, and the decision once taken. */
export interface ReviewState {
  decision: 'PENDING' | 'APPROVED' | 'REJECTED';
  score: number;
  reasons: string[];
  /** When REVIEW_TIMEOUT_MS rejects the order (set when it goes UNDER_REVIEW). */
  dueAt: string | null;
}

/** An admin's decision (HTTP, CLI, console). `by` is who decided (the admin's subject), kept in the reason. */
export interface ReviewDecisionCommand {
  type: 'ReviewDecision';
  orderId: string;
  decision: 'approve' | 'reject';
  by: string;
}

export const REVIEW_TIMEOUT_REASON = 'REVIEW_TIMEOUT: no review decision in time';
export const reviewRejectedReason = (by: string) => `REVIEW_REJECTED: by ${by}`.slice(0, 200);
/** REVIEW_TIMEOUT_MS when the caller gives none (the settings' default). */
export const DEFAULT_REVIEW_TIMEOUT_MS = 24 * 60 * 60 * 1000;

/** The fold of the review events (order.ts `evolve` delegates here); `s` already has its version and time moved on. */
export type ReviewEvent =
  | { type: 'PAYMENT_REVIEW_REQUIRED'; data: EventData<'PAYMENT_REVIEW_REQUIRED'> }
  | { type: 'ORDER_UNDER_REVIEW'; data: EventData<'ORDER_UNDER_REVIEW'> }
  | { type: 'ORDER_REVIEW_APPROVED'; data: EventData<'ORDER_REVIEW_APPROVED'> }
  | { type: 'ORDER_REVIEW_REJECTED'; data: EventData<'ORDER_REVIEW_REJECTED'> };

/** The part of the order's state the review events change (order.ts's OrderState has it). */
interface ReviewedState {
  status: string | null;
  reasons: string[];
  review: ReviewState | null;
}

export function evolveReview<S extends ReviewedState>(s: S, event: ReviewEvent): S {
  const review: ReviewState = s.review ?? { decision: 'PENDING', score: 0, reasons: [], dueAt: null };
  switch (event.type) {
    case 'PAYMENT_REVIEW_REQUIRED':
      return { ...s, review: { ...review, score: event.data.score, reasons: [...event.data.reasons] } };
    case 'ORDER_UNDER_REVIEW':
      return {
        ...s,
        status: 'UNDER_REVIEW',
        review: { ...review, score: event.data.score, reasons: [...event.data.reasons], dueAt: event.data.reviewDueAt },
      };
    case 'ORDER_REVIEW_APPROVED':
      return { ...s, status: 'PENDING', review: { ...review, decision: 'APPROVED' } };
    case 'ORDER_REVIEW_REJECTED': {
      const reasons = [...s.reasons];
      for (const r of event.data.reasons) if (!reasons.includes(r)) reasons.push(r);
      return { ...s, reasons, review: { ...review, decision: 'REJECTED' } };
    }
  }
}
