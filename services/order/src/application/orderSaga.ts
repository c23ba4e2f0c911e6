import type { Envelope } from '@commerce/contracts';
import type { Change } from '@commerce/kernel';
import {
  DEFAULT_REVIEW_TIMEOUT_MS,
  decideSaga,
  initialState,
  type OrderState,
  type ResultReceived,
  resultIgnoredBecause,
  SAGA_RESULT_TYPES,
  type SagaResultType,
  type SagaTimings,
} from '../domain/index.js';
import { changeOrder, type Decide, decideChange, type OrderChange, SAGA_CONSUMER } from './orderChanges.js';
import type { DueDeadline, OrderDeps } from './ports.js';

/** The timings the saga decider needs from the deps. */
export function sagaTimingsOf(deps: OrderDeps): SagaTimings {
  return { reviewTimeoutMs: deps.reviewTimeoutMs ?? DEFAULT_REVIEW_TIMEOUT_MS };
}

function isSagaResult(t: string): t is SagaResultType {
  return (SAGA_RESULT_TYPES as readonly string[]).includes(t);
}

/** A result the saga records, or why it ignores it (a contradiction or a late answer: the first of each side counts). */
export interface SagaResultChange extends OrderChange {
  ignored?: string;
}

/**
 * The saga's reaction to one inventory/payment result: record it, decide, append, publish, with the message's inbox
 * record. Undefined for a message the saga does not react to.
 */
export function handleSagaResult(
  deps: OrderDeps,
  envelope: Envelope,
  traceparent?: string,
): Change<OrderState, SagaResultChange> | undefined {
  if (!isSagaResult(envelope.eventType)) return undefined;
  const command = {
    type: 'ResultReceived',
    orderId: envelope.orderId,
    eventType: envelope.eventType,
    data: envelope.data,
  } as ResultReceived;
  return resultChange(
    deps,
    envelope,
    traceparent,
    (state) => resultIgnoredBecause(state, command.eventType),
    (state, now) => decideSaga(command, state, now, sagaTimingsOf(deps)),
  );
}

/**
 * The saga's change for one answer of inventory or payment (about the order, or about one of its returns), with the
 * message's inbox record: `decide` records it and decides what follows; `ignoredBecause` says why it changes nothing,
 * if it does (a duplicate, a contradiction, a late answer), for the log.
 */
export function resultChange(
  deps: OrderDeps,
  envelope: Envelope,
  traceparent: string | undefined,
  ignoredBecause: (state: OrderState) => string | undefined,
  decide: Decide,
): Change<OrderState, SagaResultChange> {
  let ignored: string | undefined;
  const change = changeOrder(
    deps,
    envelope.orderId,
    (state, now) => {
      ignored = ignoredBecause(state);
      return decide(state, now);
    },
    {
      causationId: envelope.eventId,
      traceparent,
      result: { eventId: envelope.eventId, eventType: envelope.eventType, source: envelope.source },
      inbox: { consumer: SAGA_CONSUMER, messageId: envelope.eventId },
    },
  );
  return {
    ...change,
    decide: (state) => {
      const decision = change.decide(state);
      return { ...decision, result: { ...decision.result, ignored } };
    },
  };
}

export function cancelOrder(
  deps: OrderDeps,
  orderId: string,
  by: 'customer' | 'admin',
  traceparent?: string,
): Change<OrderState, OrderChange> {
  return changeOrder(deps, orderId, (s, now) => decideSaga({ type: 'CustomerCancel', orderId, by }, s, now), {
    causationId: null,
    traceparent,
  });
}

export function retryCompensation(
  deps: OrderDeps,
  orderId: string,
  traceparent?: string,
): Change<OrderState, OrderChange> {
  return changeOrder(deps, orderId, (s, now) => decideSaga({ type: 'RetryCompensation', orderId }, s, now), {
    causationId: null,
    traceparent,
  });
}

interface DueOrder {
  due?: DueDeadline;
  state: OrderState;
}

/**
 * Fires one due deadline: claimed (other pollers skip it), deleted (fired or no longer needed: either way never
 * again), and the saga's timeout decided on the order, all in one transaction. Result: whether one was due.
 */
export function fireDueDeadline(deps: OrderDeps): Change<DueOrder, boolean> {
  return {
    load: async (reader) => {
      const due = await deps.store.claimDueDeadline(reader, deps.now());
      return { due, state: due ? await deps.store.loadOrder(reader, due.orderId) : initialState() };
    },
    decide: ({ due, state }) => {
      if (!due) return { result: false, effect: {} };
      const type = due.kind === 'saga' ? 'SagaTimeout' : 'CompensationTimeout';
      // The deadline is deleted first, so that one the change sets anew stays.
      const decision = decideChange(
        deps,
        due.orderId,
        state,
        (s, now) => decideSaga({ type, orderId: due.orderId }, s, now),
        { causationId: null },
        [deps.store.clearDeadline(due.orderId, due.kind)],
      );
      return { result: true, effect: decision.effect };
    },
  };
}
