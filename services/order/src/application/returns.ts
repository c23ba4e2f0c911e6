/** The use cases of returns (issue 21): a return request, and the saga's reaction to inventory's and payment's answers. */
import type { Envelope } from '@commerce/contracts';
import type { Change, IdempotencyKeyClaim } from '@commerce/kernel';
import {
  decideReturn,
  decideReturnResult,
  isReturnResult,
  type OrderState,
  type ReturnResultReceived,
  returnResultIgnoredBecause,
} from '../domain/index.js';
import { changeOrder, type OrderChange } from './orderChanges.js';
import { resultChange, type SagaResultChange } from './orderSaga.js';
import type { OrderDeps } from './ports.js';

export interface ReturnRequest {
  orderId: string;
  /** Made by the caller (the route): the decider never makes ids. */
  returnId: string;
  items: readonly { productId: string; quantity: number }[];
  reason?: string | null;
  traceparent?: string;
  /** The request's Idempotency-Key claim, if it has one: a retry answers the first return (ReturnRequestAnswer). */
  idempotencyKey?: IdempotencyKeyClaim;
}

/** What a retried request with the same Idempotency-Key gets back: the return it asked for. */
export interface ReturnRequestAnswer {
  returnId: string;
}

/** POST /orders/{id}/returns: ORDER_RETURN_REQUESTED, published to inventory (restock first, saga-protocol.md). */
export function requestReturn(deps: OrderDeps, req: ReturnRequest): Change<OrderState, OrderChange> {
  const change = changeOrder(
    deps,
    req.orderId,
    (state, now) =>
      decideReturn(
        { type: 'RequestReturn', orderId: req.orderId, returnId: req.returnId, items: req.items, reason: req.reason },
        state,
        now,
      ),
    { causationId: null, traceparent: req.traceparent },
  );
  const claim = req.idempotencyKey;
  if (!claim) return change;
  const answer: ReturnRequestAnswer = { returnId: req.returnId };
  return {
    ...change,
    decide: (state) => {
      const decision = change.decide(state);
      return { ...decision, effect: { ...decision.effect, idempotencyKey: { claim, answer, at: deps.now() } } };
    },
  };
}

/**
 * The saga's reaction to an answer about a return: record it and decide the return's next step, with the message's
 * inbox record. Undefined for a message that is not about a return.
 */
export function handleReturnResult(
  deps: OrderDeps,
  envelope: Envelope,
  traceparent?: string,
): Change<OrderState, SagaResultChange> | undefined {
  if (!isReturnResult(envelope.eventType)) return undefined;
  const command = {
    type: 'ReturnResultReceived',
    orderId: envelope.orderId,
    eventType: envelope.eventType,
    data: envelope.data,
  } as ReturnResultReceived;
  return resultChange(
    deps,
    envelope,
    traceparent,
    (state) => (state.status === null ? undefined : returnResultIgnoredBecause(state, command)),
    (state, now) => decideReturnResult(command, state, now),
  );
}
