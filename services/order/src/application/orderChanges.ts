import { CONSUMER_QUEUES, EVENTS, type EventType } from '@commerce/contracts';
import {
  type Change,
  type Decision,
  type Effect,
  type InboxRecord,
  type NewEvent,
  outgoingMessage,
  recordSagaOutcome,
  type Write,
} from '@commerce/kernel';
import { FINAL_STATUSES, fold, initialState, type OrderState, type OrderStreamEvent } from '../domain/index.js';
import { orderEventVersion } from './eventVersions.js';
import { type OrderDeps, streamIdOf } from './ports.js';
import { reviewDeadlineWrites } from './reviewDeadline.js';

/** The saga's inbox consumer: its queue's name (one name per consumer, in the contracts). */
export const SAGA_CONSUMER = CONSUMER_QUEUES.orderSaga;

/** Why the change happens: the message (or request) that caused it, carried onto every event and message. */
export interface Cause {
  /** eventId of the incoming message; null for an HTTP request or a timer. */
  causationId: string | null;
  traceparent?: string;
  /** The incoming result: recorded in the stream under its own eventId and source. */
  result?: { eventId: string; eventType: string; source: string };
  /** The message's inbox record: a second delivery changes nothing. */
  inbox?: InboxRecord;
  /** The stream is known to be new (an id just made): nothing to load. A wrong guess fails the append. */
  newStream?: boolean;
}

/** What a change of an order did. */
export interface OrderChange {
  before: OrderState;
  state: OrderState;
  appended: OrderStreamEvent[];
}

export type Decide = (state: OrderState, now: string) => OrderStreamEvent[];

/** The order service publishes the events of its exchange; the answers it records stay in the stream. */
const isOrderEvent = (t: string) => EVENTS[t as EventType]?.exchange === 'order_events';

/**
 * One change of one order: load its stream, decide, and write the new events at the version decided on, the read
 * model row, the deadlines the new state needs (set or cleared) and the outbox messages of its ORDER_* events.
 */
export function changeOrder(
  deps: OrderDeps,
  orderId: string,
  decide: Decide,
  cause: Cause,
): Change<OrderState, OrderChange> {
  return {
    inbox: cause.inbox,
    load: cause.newStream ? undefined : (reader) => deps.store.loadOrder(reader, orderId),
    decide: (loaded) => decideChange(deps, orderId, loaded ?? initialState(), decide, cause),
  };
}

/** The decision and its effect for an order in state `before` (also used by changes that load more than the order). */
export function decideChange(
  deps: OrderDeps,
  orderId: string,
  before: OrderState,
  decide: Decide,
  cause: Cause,
  extraWrites: readonly Write[] = [],
): Decision<OrderChange> {
  const now = deps.now();
  const events = decide(before, now.toISOString());
  if (events.length === 0) return { result: { before, state: before, appended: [] }, effect: { writes: extraWrites } };
  const newEvents: NewEvent[] = events.map((e) => {
    const recorded = cause.result && e.type === cause.result.eventType;
    return {
      eventId: recorded ? (cause.result?.eventId as string) : deps.newId(),
      eventType: e.type,
      data: e.data,
      occurredAt: e.occurredAt,
      causationId: recorded ? null : cause.causationId,
      traceparent: cause.traceparent,
      metadata: { source: recorded ? cause.result?.source : 'order', schemaVersion: orderEventVersion(e.type) },
    };
  });
  const state = fold(events, before);
  const finished =
    state.status && FINAL_STATUSES.has(state.status) && !(before.status && FINAL_STATUSES.has(before.status));
  const effect: Effect = {
    appends: [{ streamId: streamIdOf(orderId), expectedVersion: before.version, events: newEvents }],
    writes: [
      ...extraWrites,
      deps.store.projectOrder(orderId, state),
      ...deadlineWrites(deps, orderId, before, state, events, now),
    ],
    outbox: newEvents
      .filter((e) => isOrderEvent(e.eventType))
      .map((e) =>
        outgoingMessage({
          eventId: e.eventId,
          eventType: e.eventType as EventType,
          orderId,
          data: e.data,
          occurredAt: e.occurredAt,
          causationId: cause.causationId,
          source: 'order',
          traceparent: cause.traceparent,
        }),
      ),
    // Metrics of the saga's end (businessMetrics.ts), once the final status is committed.
    ...(finished
      ? { committed: () => recordSagaOutcome(state.status as string, secondsBetween(state.createdAt, now)) }
      : {}),
  };
  return { result: { before, state, appended: events }, effect };
}

function secondsBetween(from: string | null, to: Date): number {
  return from ? (to.getTime() - Date.parse(from)) / 1000 : Number.NaN;
}

/** The saga's deadlines follow the state: stored with it, cleared when the state moves on (PITFALLS "Sagas"). */
function deadlineWrites(
  deps: OrderDeps,
  orderId: string,
  before: OrderState,
  state: OrderState,
  events: readonly OrderStreamEvent[],
  now: Date,
): Write[] {
  const writes: Write[] = [];
  const { store } = deps;
  if (events.some((e) => e.type === 'ORDER_CREATED'))
    writes.push(store.setDeadline(orderId, 'saga', new Date(now.getTime() + deps.sagaTimeoutMs)));
  else if (before.status === 'PENDING' && state.status !== 'PENDING') writes.push(store.clearDeadline(orderId, 'saga'));
  if (events.some((e) => e.type === 'ORDER_COMPENSATION_STARTED'))
    writes.push(store.setDeadline(orderId, 'compensation', new Date(now.getTime() + deps.compensationTimeoutMs)));
  else if (before.status === 'COMPENSATION_PENDING' && state.status !== 'COMPENSATION_PENDING')
    writes.push(store.clearDeadline(orderId, 'compensation'));
  writes.push(...reviewDeadlineWrites(deps, orderId, before, state, now));
  return writes;
}
