import { isUuid } from '@commerce/contracts';
import type { OutgoingMessage } from './bus/port.js';
import type { Queryable } from './db/port.js';
import { currentTraceparent } from './tracing.js';

export const OUTBOX_CHANNEL = 'outbox';

/**
 * Stores messages to publish in the caller's transaction, together with the state change that
 * caused them. The partition key is the envelope's orderId: the relay keeps publication order per order.
 * A message id already in the outbox is ignored (re-running an effect enqueues nothing twice).
 * `wake` (default true) also wakes the relays (NOTIFY, delivered at commit, dropped on rollback); a process that
 * dispatches its messages at commit (outboxDispatch.ts) leaves it off: its relay only looks for stragglers.
 */
export async function enqueueOutbox(
  tx: Queryable,
  messages: readonly OutgoingMessage[],
  options: { wake?: boolean } = {},
): Promise<void> {
  if (messages.length === 0) return;
  messages.forEach((m, i) => {
    const where = `messages[${i}]`;
    if (!m || typeof m !== 'object') throw new TypeError(`${where} must be an object`);
    if (typeof m.exchange !== 'string' || !m.exchange)
      throw new TypeError(`${where}.exchange must be a non-empty string`);
    if (typeof m.routingKey !== 'string' || !m.routingKey)
      throw new TypeError(`${where}.routingKey must be a non-empty string`);
    if (!m.envelope || !isUuid(m.envelope.eventId)) throw new TypeError(`${where}.envelope.eventId must be a UUID`);
    if (typeof m.envelope.orderId !== 'string' || !m.envelope.orderId)
      throw new TypeError(`${where}.envelope.orderId must be set (it is the partition key)`);
  });
  const docs = withTraceparent(messages).map((m) => ({
    exchange: m.exchange,
    routingKey: m.routingKey,
    envelope: m.envelope,
    traceparent: m.traceparent ?? null,
  }));
  // One round trip: the insert and, unless `wake` is off, the wake-up NOTIFY (payload constant, so that PostgreSQL
  // folds the notifications of one transaction; it is delivered at commit and dropped on rollback). The insert runs
  // either way: a data-modifying WITH always runs to completion, whether or not the outer query reads it.
  await tx.query(
    `WITH inserted AS (
       INSERT INTO outbox (message_id, exchange, routing_key, partition_key, envelope, traceparent)
       SELECT (x.m->'envelope'->>'eventId')::uuid, x.m->>'exchange', x.m->>'routingKey', x.m->'envelope'->>'orderId',
              x.m->'envelope', x.m->>'traceparent'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(m, ord)
        ORDER BY x.ord
       ON CONFLICT (message_id) DO NOTHING
       RETURNING 1)
     SELECT pg_notify($2, 'enqueued') FROM (SELECT count(*) FROM inserted) AS done WHERE $3::boolean`,
    [JSON.stringify(docs), OUTBOX_CHANNEL, options.wake !== false],
  );
}

/** The messages as they are stored and sent: each with the trace context of the change that made it. */
export function withTraceparent(messages: readonly OutgoingMessage[]): OutgoingMessage[] {
  const current = currentTraceparent();
  return messages.map((m) => (m.traceparent || !current ? m : { ...m, traceparent: current }));
}

export interface OutboxStatus {
  unpublished: number;
  /** Age of the oldest unpublished row (0 when none): the relay's lag. */
  oldestUnpublishedAgeMs: number;
  /** Unpublished rows whose publication failed at least once. */
  failing: number;
  /** Published rows still kept (until the retention period ends). */
  published: number;
}

export async function outboxStatus(db: Queryable): Promise<OutboxStatus> {
  const res = await db.query<Record<string, number | string | null>>(
    `SELECT count(*) FILTER (WHERE published_at IS NULL) AS unpublished,
            coalesce(floor(extract(epoch FROM (now() - min(created_at) FILTER (WHERE published_at IS NULL))) * 1000), 0)
              AS oldest_ms,
            count(*) FILTER (WHERE published_at IS NULL AND attempts > 0) AS failing,
            count(*) FILTER (WHERE published_at IS NOT NULL) AS published
       FROM outbox`,
  );
  const r = res.rows[0] ?? {};
  return {
    unpublished: Number(r.unpublished ?? 0),
    oldestUnpublishedAgeMs: Math.max(0, Number(r.oldest_ms ?? 0)),
    failing: Number(r.failing ?? 0),
    published: Number(r.published ?? 0),
  };
}

/** Deletes rows published before `before`; returns how many. */
export async function deletePublishedOutbox(db: Queryable, before: Date): Promise<number> {
  const res = await db.query('DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $1', [before]);
  return res.rowCount;
}

export interface OutboxRow {
  id: number;
  exchange: string;
  routing_key: string;
  envelope: OutgoingMessage['envelope'];
  traceparent: string | null;
  created_at: Date | string;
}

/**
 * The oldest unpublished rows, in id order; with `olderThanMs`, only rows written at least that long ago (the rows
 * that dispatch at commit left behind). Callers hold the relay lock (see OutboxRelay).
 */
export async function claimOutboxBatch(q: Queryable, limit: number, olderThanMs = 0): Promise<OutboxRow[]> {
  const res = await q.query<OutboxRow>(
    `SELECT id, exchange, routing_key, envelope, traceparent, created_at
       FROM outbox
      WHERE published_at IS NULL
        AND ($2::float8 = 0 OR created_at <= now() - make_interval(secs => $2::float8 / 1000))
      ORDER BY id LIMIT $1`,
    [limit, olderThanMs],
  );
  return res.rows.map((r) => ({ ...r, id: Number(r.id) }));
}

// Ids as an array parameter: `id = ANY($1)` is an index condition, planned in a fraction of the time a join against
// a set-returning function takes (PGlite plans every statement: 1.6 → 0.9 ms per mark there).
export async function markPublished(q: Queryable, ids: number[], at: Date): Promise<void> {
  await q.query('UPDATE outbox SET published_at = $2 WHERE id = ANY($1::bigint[]) AND published_at IS NULL', [ids, at]);
}

export async function markFailed(q: Queryable, ids: number[], error: string): Promise<void> {
  await q.query(
    'UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[]) AND published_at IS NULL',
    [ids, error.slice(0, 2000)],
  );
}

/** Marks rows published by their message ids (dispatch at commit knows the messages, not the row ids). */
export async function markMessagesPublished(q: Queryable, messageIds: readonly string[], at: Date): Promise<number> {
  const res = await q.query(
    'UPDATE outbox SET published_at = $2 WHERE message_id = ANY($1::uuid[]) AND published_at IS NULL',
    [messageIds, at],
  );
  return res.rowCount;
}
