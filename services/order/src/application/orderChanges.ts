import { EVENTS, type EventType, routingKeyOf, SCHEMA_VERSION } from '@commerce/contracts';
import {
  allInOrder,
  appendToStream,
  ConcurrencyError,
  type Database,
  enqueueOutbox,
  type Logger,
  type NewEvent,
  type OutgoingMessage,
  type Queryable,
  readStream,
  recordInbox,
  type Transaction,
} from '@commerce/kernel';
import { projectOrder } from '../adapters/readModel.js';
import { clearDeadline, setDeadline } from '../adapters/sagaDeadlines.js';
import { fold, initialState, type OrderState, type OrderStreamEvent } from '../domain/index.js';

/** What the order service's application code needs; ServiceContext provides all of it. */
export interface OrderDeps {
  db: Database;
  log: Logger;
  now(): Date;
  newId(): string;
  sagaTimeoutMs: number;
  compensationTimeoutMs: number;
}

export const SAGA_CONSUMER = 'order.saga';
export const streamIdOf = (orderId: string) => `order-${orderId}`;

/** Why the change happens: the message (or request) that caused it, carried onto every event and message. */
export interface Cause {
  /** eventId of the incoming message; null for an HTTP request or a timer. */
  causationId: string | null;
  traceparent?: string;
  /** The incoming result: recorded in the stream under its own eventId and source. */
  result?: { eventId: string; eventType: string; source: string };
  /** Record this message in the inbox in the same transaction (saga consumer). */
  inbox?: { consumer: string; messageId: string };
  /** The stream is known to be new (an id just made): nothing to load. A wrong guess fails the append. */
  newStream?: boolean;
}

export interface OrderChange {
  before: OrderState;
  state: OrderState;
  appended: OrderStreamEvent[];
  /** The inbox already had the message: nothing was done. */
  duplicate: boolean;
}

export type Decide = (state: OrderState, now: string) => OrderStreamEvent[];

export async function loadOrder(q: Queryable, orderId: string): Promise<OrderState> {
  const stored = await readStream(q, streamIdOf(orderId));
  return fold(stored.map((e) => ({ type: e.eventType, data: e.data, occurredAt: e.occurredAt }) as OrderStreamEvent));
}

const isOrderEvent = (t: string) => t.startsWith('ORDER_');

/**
 * One state change = one transaction: (inbox row) + load + decide + append at the expected version +
 * read model + deadlines + outbox rows of the ORDER_* events. Runs inside the caller's transaction and ends it:
 * the writes go out with its COMMIT (Transaction.final), so the caller issues nothing after (statements it
 * issued before travel ahead of the COMMIT). A ConcurrencyError aborts it (retry with `retryOnConflict`).
 */
export async function changeOrderIn(
  tx: Transaction,
  deps: OrderDeps,
  orderId: string,
  decide: Decide,
  cause: Cause,
): Promise<OrderChange> {
  // The inbox row first: a concurrent duplicate waits there until the first delivery commits. The stream is read
  // right behind it, in the same batch and round trip (pg), so it sees what that delivery committed.
  const [fresh, before] = await allInOrder([
    cause.inbox ? recordInbox(tx, cause.inbox.consumer, cause.inbox.messageId) : true,
    cause.newStream ? initialState() : loadOrder(tx, orderId),
  ] as const);
  if (!fresh) return { before, state: before, appended: [], duplicate: true };
  const now = deps.now();
  const events = decide(before, now.toISOString());
  if (events.length === 0) return { before, state: before, appended: [], duplicate: false };

  const newEvents: NewEvent[] = events.map((e) => {
    const recorded = cause.result && e.type === cause.result.eventType;
    return {
      eventId: recorded ? (cause.result?.eventId as string) : deps.newId(),
      eventType: e.type,
      data: e.data,
      occurredAt: e.occurredAt,
      causationId: recorded ? null : cause.causationId,
      traceparent: cause.traceparent,
      metadata: { source: recorded ? cause.result?.source : 'order', schemaVersion: SCHEMA_VERSION },
    };
  });
  const state = fold(events, before);
  const writes: Promise<unknown>[] = [
    // First: should another writer have appended meanwhile, its ConcurrencyError is the one reported.
    appendToStream(tx, streamIdOf(orderId), before.version, newEvents),
    projectOrder(tx, orderId, state),
  ];

  if (events.some((e) => e.type === 'ORDER_CREATED'))
    writes.push(setDeadline(tx, orderId, 'saga', new Date(now.getTime() + deps.sagaTimeoutMs)));
  else if (before.status === 'PENDING' && state.status !== 'PENDING') writes.push(clearDeadline(tx, orderId, 'saga'));
  if (events.some((e) => e.type === 'ORDER_COMPENSATION_STARTED'))
    writes.push(setDeadline(tx, orderId, 'compensation', new Date(now.getTime() + deps.compensationTimeoutMs)));
  else if (before.status === 'COMPENSATION_PENDING' && state.status !== 'COMPENSATION_PENDING')
    writes.push(clearDeadline(tx, orderId, 'compensation'));

  const messages: OutgoingMessage[] = newEvents
    .filter((e) => isOrderEvent(e.eventType))
    .map((e) => ({
      exchange: EVENTS[e.eventType as EventType].exchange,
      routingKey: routingKeyOf(e.eventType),
      traceparent: cause.traceparent,
      envelope: {
        eventId: e.eventId,
        eventType: e.eventType,
        schemaVersion: SCHEMA_VERSION,
        occurredAt: String(e.occurredAt),
        orderId,
        causationId: cause.causationId,
        source: 'order',
        data: e.data,
      },
    }));
  writes.push(enqueueOutbox(tx, messages));
  // The writes depend on nothing but the decision: issued together with the COMMIT, they travel as one batch and
  // round trip (pg); a failing one (a ConcurrencyError of the append, say) aborts the transaction.
  await tx.final(writes);
  return { before, state, appended: events, duplicate: false };
}

/** Reloads and decides again when another writer appended first (a few times, then gives up). */
export async function retryOnConflict<T>(log: Logger, what: string, fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof ConcurrencyError) || attempt >= attempts) throw err;
      log.debug({ attempt, what, err: err.message }, 'order stream moved on: reloading and deciding again');
    }
  }
}

export function changeOrder(deps: OrderDeps, orderId: string, decide: Decide, cause: Cause): Promise<OrderChange> {
  return retryOnConflict(deps.log, `order ${orderId}`, () =>
    deps.db.transaction((tx) => changeOrderIn(tx, deps, orderId, decide, cause)),
  );
}
