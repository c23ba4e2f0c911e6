/**
 * What inventory and payment share as participants of the order saga: the messages of one order are applied one
 * after the other (an advisory lock per order, held to the end of the transaction), and a rollback that arrives
 * before the request it undoes is remembered (a rollback marker), so that the late request is not applied.
 */
import type { EventType } from '@commerce/contracts';
import type { Binding, Delivery, OutgoingMessage, Subscription } from './bus/port.js';
import { allInOrder, type Queryable } from './db/port.js';
import { type Change, commitChange, type Decision, type Write } from './effect.js';
import { outgoingMessage } from './messages.js';
import type { ServiceContext } from './service.js';

/** An order message a participant answers: the order, the message's eventId (its inbox record and its answer's
 * causationId) and its trace context. */
export interface OrderMessage {
  orderId: string;
  eventId: string;
  traceparent?: string;
}

export function orderMessageOf(delivery: Pick<Delivery, 'envelope' | 'traceparent'>): OrderMessage {
  const { envelope, traceparent } = delivery;
  return { orderId: envelope.orderId, eventId: envelope.eventId, traceparent };
}

/** What a participant answers an order message with (none: nothing to say). */
export type ParticipantReply = { eventType: EventType; data: unknown } | undefined;

/**
 * A participant's change for one order message: its inbox record under `consumer`, the participant's load, and a
 * decision taken at `now()` (read once per decision, passed to the decider). The decision's writes commit with its
 * reply, sent on the participant's exchange as `source` (participantAnswer); the change's result is the reply.
 */
export function orderMessageChange<S, R extends ParticipantReply>(o: {
  consumer: string;
  source: string;
  message: OrderMessage;
  now(): Date;
  newId(): string;
  load(reader: Queryable): Promise<S>;
  decide(state: S, now: Date): { writes: Write[]; reply: R };
}): Change<S, R> {
  const { message } = o;
  return {
    inbox: { consumer: o.consumer, messageId: message.eventId },
    load: o.load,
    decide: (state): Decision<R> => {
      const now = o.now();
      const { writes, reply } = o.decide(state, now);
      const outbox = participantAnswer({
        source: o.source,
        eventId: o.newId(),
        orderId: message.orderId,
        reply,
        now,
        message,
      });
      return { effect: { writes, outbox }, result: reply };
    },
  };
}

/** The participant's answer to an order message, on its exchange, caused by the message (none: a timer's). */
export function participantAnswer(o: {
  source: string;
  eventId: string;
  orderId: string;
  reply: ParticipantReply;
  now: Date;
  message?: OrderMessage;
}): OutgoingMessage[] {
  if (!o.reply) return [];
  return [
    outgoingMessage({
      eventId: o.eventId,
      eventType: o.reply.eventType,
      orderId: o.orderId,
      data: o.reply.data,
      occurredAt: o.now,
      causationId: o.message?.eventId ?? null,
      source: o.source,
      traceparent: o.message?.traceparent,
    }),
  ];
}

/**
 * Subscribes a participant to the order messages it answers: each delivery becomes a change (none: nothing to do
 * with it), committed with its inbox record; Redis (or memory) skips obvious duplicates first.
 */
export function subscribeOrderMessages<S, R>(
  ctx: Pick<ServiceContext, 'bus' | 'db' | 'dedup'>,
  o: {
    queue: string;
    bindings: Binding[];
    maxAttempts: number;
    changeOf(delivery: Delivery): Change<S, R> | undefined;
  },
): Promise<Subscription> {
  return ctx.bus.subscribe({
    queue: o.queue,
    bindings: o.bindings,
    maxAttempts: o.maxAttempts,
    handler: async (delivery) => {
      await commitOrderMessage(ctx, o.changeOf(delivery), delivery);
    },
  });
}

/**
 * Commits a participant's change for one order message exactly once (its inbox record with its effect); answers the
 * change's result, or undefined for a duplicate or a message it has nothing to do with (no change).
 */
export async function commitOrderMessage<S, R>(
  ctx: Pick<ServiceContext, 'db' | 'dedup'>,
  change: Change<S, R> | undefined,
  delivery: Pick<Delivery, 'redelivered'> = {},
): Promise<R | undefined> {
  if (!change) return undefined;
  const out = await commitChange(ctx.db, change, { dedup: ctx.dedup, maybeHandled: delivery.redelivered === true });
  return out.kind === 'applied' ? out.result : undefined;
}

/**
 * Takes the order's lock for `participant` and reads whether a rollback came first. Both statements are issued at
 * once; a store adds its own reads behind them (they run after the lock).
 */
export async function lockOrderForParticipant(
  q: Queryable,
  participant: string,
  orderId: string,
): Promise<{ rollbackCameFirst: boolean }> {
  const [, marker] = await allInOrder([
    q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${participant}:order:${orderId}`]),
    q.query('SELECT 1 FROM rollback_markers WHERE order_id = $1', [orderId]),
  ] as const);
  return { rollbackCameFirst: marker.rowCount > 0 };
}

/**
 * Takes, without waiting, the locks of those orders that nobody holds right now (a background job, say, that leaves
 * an order being handled for its next pass). Answers the orders locked, held to the end of the transaction.
 */
export async function tryLockOrdersForParticipant(
  q: Queryable,
  participant: string,
  orderIds: readonly string[],
): Promise<Set<string>> {
  if (orderIds.length === 0) return new Set();
  // The same key as lockOrderForParticipant's.
  const res = await q.query<{ order_id: string }>(
    `SELECT o.order_id FROM unnest($2::text[]) AS o(order_id)
      WHERE pg_try_advisory_xact_lock(hashtext($1 || ':order:' || o.order_id))`,
    [participant, orderIds],
  );
  return new Set(res.rows.map((r) => r.order_id));
}

/** Remembers that a rollback of the order came before its request (kept once; a second marker changes nothing). */
export function rollbackMarker(orderId: string, causeEventId: string | null, at: Date): Write {
  return {
    sql: `INSERT INTO rollback_markers (order_id, cause_event_id, created_at) VALUES ($1, $2, $3)
          ON CONFLICT (order_id) DO NOTHING`,
    params: [orderId, causeEventId, at],
  };
}

/** When a rollback of the order came before its request, if one did. */
export async function rollbackMarkerAt(q: Queryable, orderId: string): Promise<Date | undefined> {
  const res = await q.query<{ created_at: Date }>('SELECT created_at FROM rollback_markers WHERE order_id = $1', [
    orderId,
  ]);
  const at = res.rows[0]?.created_at;
  return at === undefined ? undefined : new Date(at);
}
