import type { EventData } from '@commerce/contracts';
import {
  CompensationNotRetryableError,
  OrderNotCancellableError,
  OrderNotFoundError,
  OrderNotUnderReviewError,
} from './errors.js';
import { evolve, FINAL_STATUSES, type OrderState, type OrderStreamEvent } from './order.js';
import {
  DEFAULT_REVIEW_TIMEOUT_MS,
  REVIEW_TIMEOUT_REASON,
  type ReviewDecisionCommand,
  reviewRejectedReason,
} from './review.js';
import {
  approveReview,
  awaitingReviewDecision,
  holdForReview,
  rejectReview,
  reviewResultIgnoredBecause,
} from './reviewSaga.js';

/** Results the saga reacts to: the inventory and payment events of SPEC §5. */
export type SagaResultType =
  | 'INVENTORY_RESERVED'
  | 'INVENTORY_RESERVATION_FAILED'
  | 'INVENTORY_COMMITTED'
  | 'INVENTORY_RELEASED'
  | 'PAYMENT_APPROVED'
  | 'PAYMENT_DECLINED'
  | 'PAYMENT_REFUNDED'
  | 'PAYMENT_REVIEW_REQUIRED';
export const SAGA_RESULT_TYPES: readonly SagaResultType[] = [
  'INVENTORY_RESERVED',
  'INVENTORY_RESERVATION_FAILED',
  'INVENTORY_COMMITTED',
  'INVENTORY_RELEASED',
  'PAYMENT_APPROVED',
  'PAYMENT_DECLINED',
  'PAYMENT_REFUNDED',
  'PAYMENT_REVIEW_REQUIRED',
];

export type ResultReceived = {
  [K in SagaResultType]: { type: 'ResultReceived'; orderId: string; eventType: K; data: EventData<K> };
}[SagaResultType];

export type SagaCommand =
  | ResultReceived
  | { type: 'SagaTimeout'; orderId: string }
  | { type: 'CompensationTimeout'; orderId: string }
  | { type: 'CustomerCancel'; orderId: string; by: 'customer' | 'admin' }
  | { type: 'RetryCompensation'; orderId: string }
  | ReviewDecisionCommand;

/** The saga's timings that decide what it appends (the deadlines themselves are the application's). */
export interface SagaTimings {
  /** REVIEW_TIMEOUT_MS: how long an order waits UNDER_REVIEW before it is rejected. */
  reviewTimeoutMs: number;
}
const DEFAULT_TIMINGS: SagaTimings = { reviewTimeoutMs: DEFAULT_REVIEW_TIMEOUT_MS };

export const SAGA_TIMEOUT_REASON = 'SAGA_TIMEOUT: no answer from every service in time';
/** Inventory released the reservation on its own (RESERVATION_TTL_MS) before it could be committed. */
export const RESERVATION_EXPIRED_REASON = 'RESERVATION_EXPIRED';

/** A side may hold something: it has not failed (succeeded, or not answered yet) and is not undone already. */
const inventoryMayHold = (s: OrderState) => s.inventoryAnswer !== 'FAILED' && s.inventoryUndo !== 'DONE';
const paymentMayHold = (s: OrderState) => s.paymentAnswer !== 'DECLINED' && s.paymentUndo !== 'DONE';

/**
 * Cancels, and requests the undo of every side that may hold something: one that succeeded, and one
 * that has not answered yet (its answer may still come; its service remembers the request and answers
 * it, saga-protocol.md). Nothing to undo (both failed) → CANCELLED, final. The reasons are the failures
 * already known, then `trigger` (why it is cancelled now, if not a failure).
 */
function cancel(state: OrderState, trigger: readonly string[], now: string): OrderStreamEvent[] {
  const requiresRefund = paymentMayHold(state);
  const requiresInventoryRollback = inventoryMayHold(state);
  const reasons = [...state.reasons, ...trigger.filter((r) => !state.reasons.includes(r))];
  const events: OrderStreamEvent[] = [
    { type: 'ORDER_CANCELLED', occurredAt: now, data: { reasons, requiresRefund, requiresInventoryRollback } },
  ];
  if (requiresRefund || requiresInventoryRollback)
    events.push({ type: 'ORDER_COMPENSATION_STARTED', occurredAt: now, data: {} });
  if (requiresRefund)
    events.push({
      type: 'ORDER_PAYMENT_ROLLBACK_REQUESTED',
      occurredAt: now,
      data: { amount: state.totalAmount, currency: state.currency as EventData<'PAYMENT_REFUNDED'>['currency'] },
    });
  if (requiresInventoryRollback) events.push({ type: 'ORDER_INVENTORY_ROLLBACK_REQUESTED', occurredAt: now, data: {} });
  return events;
}

/** Every undo asked for is done (acknowledged, or its side turned out to have failed: nothing to undo). */
function compensationComplete(s: OrderState): boolean {
  return s.inventoryUndo !== 'REQUESTED' && s.paymentUndo !== 'REQUESTED';
}

/**
 * Why a result is not recorded, or undefined if it is new. `duplicate`: the side already gave this
 * answer; `contradictory`: it already gave another one (cannot come from a correct service);
 * `unexpected`: an acknowledgement or commit nobody asked for.
 */
export function resultIgnoredBecause(
  state: OrderState,
  eventType: SagaResultType,
): 'duplicate' | 'contradictory' | 'unexpected' | undefined {
  switch (eventType) {
    case 'INVENTORY_RESERVED':
    case 'INVENTORY_RESERVATION_FAILED': {
      if (state.inventoryAnswer === null) return undefined;
      const same = (state.inventoryAnswer === 'RESERVED') === (eventType === 'INVENTORY_RESERVED');
      return same ? 'duplicate' : 'contradictory';
    }
    case 'PAYMENT_APPROVED':
    case 'PAYMENT_DECLINED': {
      // Payment holds the capture until the review is decided: an answer before that is not its.
      if (awaitingReviewDecision(state)) return 'unexpected';
      if (state.paymentAnswer === null) return undefined;
      const same = (state.paymentAnswer === 'APPROVED') === (eventType === 'PAYMENT_APPROVED');
      return same ? 'duplicate' : 'contradictory';
    }
    case 'INVENTORY_COMMITTED':
      if (state.inventoryCommitted) return 'duplicate';
      return state.inventoryAnswer === 'RESERVED' && state.status !== 'PENDING' ? undefined : 'unexpected';
    case 'INVENTORY_RELEASED':
      if (state.inventoryUndo === 'DONE') return 'duplicate';
      if (state.inventoryUndo === 'REQUESTED') return undefined;
      // Not requested: inventory released a reservation it never committed (expired) after we confirmed.
      // Before confirmation (PENDING) it is not recorded: the ORDER_CONFIRMED, if any, is answered again.
      return state.status === 'CONFIRMED' && state.inventoryAnswer === 'RESERVED' && !state.inventoryCommitted
        ? undefined
        : 'unexpected';
    case 'PAYMENT_REFUNDED':
      if (state.paymentUndo === 'DONE') return 'duplicate';
      return state.paymentUndo === 'REQUESTED' ? undefined : 'unexpected';
    case 'PAYMENT_REVIEW_REQUIRED':
      return reviewResultIgnoredBecause(state);
  }
}

/**
 * The saga (process manager) as a decider: given the order's state and what happened, the events to
 * append. Expected outcomes are events; only illegal commands throw.
 */
export function decideSaga(
  cmd: SagaCommand,
  state: OrderState,
  now: string,
  timings: SagaTimings = DEFAULT_TIMINGS,
): OrderStreamEvent[] {
  if (state.status === null) {
    if (cmd.type === 'SagaTimeout' || cmd.type === 'CompensationTimeout') return [];
    throw new OrderNotFoundError(cmd.orderId);
  }
  switch (cmd.type) {
    case 'SagaTimeout':
      // The order's one waiting deadline: while UNDER_REVIEW it is the review's (REVIEW_TIMEOUT_MS).
      if (state.status === 'UNDER_REVIEW') return rejectAndCancel(state, REVIEW_TIMEOUT_REASON, now);
      return state.status === 'PENDING' ? cancel(state, [SAGA_TIMEOUT_REASON], now) : [];
    case 'CompensationTimeout': {
      if (state.status !== 'COMPENSATION_PENDING') return [];
      const reasons: string[] = [];
      if (state.inventoryUndo === 'REQUESTED') reasons.push('COMPENSATION_TIMEOUT: inventory release not acknowledged');
      if (state.paymentUndo === 'REQUESTED') reasons.push('COMPENSATION_TIMEOUT: payment refund not acknowledged');
      return [{ type: 'ORDER_COMPENSATION_FAILED', occurredAt: now, data: { reasons } }];
    }
    case 'CustomerCancel':
      if (state.status !== 'PENDING' && state.status !== 'CONFIRMED' && state.status !== 'UNDER_REVIEW')
        throw new OrderNotCancellableError(cmd.orderId, state.status);
      return cancel(state, [cmd.by === 'admin' ? 'CANCELLED_BY_ADMIN' : 'CANCELLED_BY_CUSTOMER'], now);
    case 'RetryCompensation': {
      if (state.status !== 'COMPENSATION_FAILED') throw new CompensationNotRetryableError(cmd.orderId, state.status);
      const events: OrderStreamEvent[] = [{ type: 'ORDER_COMPENSATION_STARTED', occurredAt: now, data: {} }];
      if (state.paymentUndo === 'REQUESTED')
        events.push({
          type: 'ORDER_PAYMENT_ROLLBACK_REQUESTED',
          occurredAt: now,
          data: { amount: state.totalAmount, currency: state.currency as EventData<'PAYMENT_REFUNDED'>['currency'] },
        });
      if (state.inventoryUndo === 'REQUESTED')
        events.push({ type: 'ORDER_INVENTORY_ROLLBACK_REQUESTED', occurredAt: now, data: {} });
      return events;
    }
    case 'ResultReceived':
      return decideResult(cmd, state, now, timings);
    case 'ReviewDecision':
      return decideReview(cmd, state, now);
  }
}

/** An admin's decision on a held order; repeating the decision taken changes nothing, the other one is refused. */
function decideReview(cmd: ReviewDecisionCommand, state: OrderState, now: string): OrderStreamEvent[] {
  if (state.status !== 'UNDER_REVIEW') {
    const decided = state.review?.decision;
    const same =
      (decided === 'APPROVED' && cmd.decision === 'approve') || (decided === 'REJECTED' && cmd.decision === 'reject');
    if (same) return [];
    throw new OrderNotUnderReviewError(
      cmd.orderId,
      state.status as string,
      decided === 'APPROVED' || decided === 'REJECTED' ? decided.toLowerCase() : undefined,
    );
  }
  return cmd.decision === 'approve'
    ? approveReview(state, now)
    : rejectAndCancel(state, reviewRejectedReason(cmd.by), now);
}

/** A rejection ends the order like a declined payment: cancelled with the reasons, what is held undone. */
function rejectAndCancel(state: OrderState, trigger: string, now: string): OrderStreamEvent[] {
  const rejected = rejectReview(state, trigger, now);
  return [rejected, ...cancel(evolve(state, rejected), [], now)];
}

function decideResult(cmd: ResultReceived, state: OrderState, now: string, timings: SagaTimings): OrderStreamEvent[] {
  if (resultIgnoredBecause(state, cmd.eventType) !== undefined) return [];
  const recorded = { type: cmd.eventType, data: cmd.data, occurredAt: now } as OrderStreamEvent;
  const after = evolve(state, recorded);
  const events: OrderStreamEvent[] = [recorded];
  if (after.status === 'PENDING' && cmd.eventType === 'PAYMENT_REVIEW_REQUIRED') {
    // Held for a person; an order whose stock already failed cannot complete: cancel it (the held payment is released).
    events.push(
      ...(after.inventoryAnswer === 'FAILED'
        ? cancel(after, [], now)
        : holdForReview(after, now, timings.reviewTimeoutMs)),
    );
  } else if (after.status === 'UNDER_REVIEW') {
    // Stock that failed while the order waits ends it: nothing to review. A reservation just waits with it.
    if (cmd.eventType === 'INVENTORY_RESERVATION_FAILED') events.push(...cancel(after, [], now));
  } else if (after.status === 'PENDING') {
    // Decide only once both sides have answered (SPEC §6 rows): a first failure is recorded and the
    // saga waits for the other side, bounded by the saga deadline, so that two failures end CANCELLED
    // with nothing to undo instead of requesting the undo of a side that may fail too.
    if (after.inventoryAnswer === null || after.paymentAnswer === null) return events;
    if (after.inventoryAnswer === 'RESERVED' && after.paymentAnswer === 'APPROVED')
      events.push({ type: 'ORDER_CONFIRMED', occurredAt: now, data: {} });
    else events.push(...cancel(after, [], now));
  } else if (after.status === 'CONFIRMED') {
    if (cmd.eventType === 'INVENTORY_COMMITTED') events.push({ type: 'ORDER_COMPLETED', occurredAt: now, data: {} });
    // The reservation expired before the confirmation reached inventory: nothing was sold, so the
    // order cannot complete; refund the payment (the stock is already back).
    else if (cmd.eventType === 'INVENTORY_RELEASED') events.push(...cancel(after, [RESERVATION_EXPIRED_REASON], now));
  } else if (
    (after.status === 'COMPENSATION_PENDING' || after.status === 'COMPENSATION_FAILED') &&
    compensationComplete(after)
  ) {
    // Every undo asked for is acknowledged (never on the first of two), or its side turned out to
    // have failed (nothing held); a late acknowledgement still completes a failed compensation. A late
    // success needs nothing new: its undo was requested at cancellation and its service answers it.
    events.push({ type: 'ORDER_COMPENSATED', occurredAt: now, data: {} });
  }
  return events;
}

export function isFinal(state: OrderState): boolean {
  return state.status !== null && FINAL_STATUSES.has(state.status);
}
