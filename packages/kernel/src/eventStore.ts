import { isUuid } from '@commerce/contracts';
import type { Queryable } from './db/port.js';
import { PG, pgErrorCode } from './db/port.js';
import { currentTraceparent } from './tracing.js';

/** The event's trace context: given, else the operation's current one (tracing.ts). */
function traceOf(e: { traceparent?: string }): { traceparent?: string } {
  const tp = e.traceparent ?? currentTraceparent();
  return tp ? { traceparent: tp } : {};
}

/** What every stored event carries besides its data: where it came from, for tracing and de-duplication. */
export interface EventMetadata {
  /** eventId of the message that caused this event (null when a user command did). */
  causationId: string | null;
  /** W3C trace context of the operation that wrote the event. */
  traceparent?: string;
  [key: string]: unknown;
}

export interface NewEvent<T = unknown> {
  eventId: string;
  eventType: string;
  data: T;
  occurredAt: Date | string;
  causationId?: string | null;
  traceparent?: string;
  /** Further metadata (causationId and traceparent above take precedence). */
  metadata?: Record<string, unknown>;
}

export interface StoredEvent<T = unknown> {
  globalPosition: number;
  /** The writing transaction (its xid8 as a decimal string): with globalPosition, the readAll position. */
  txId: string;
  streamId: string;
  version: number;
  eventId: string;
  eventType: string;
  data: T;
  metadata: EventMetadata;
  occurredAt: string;
  recordedAt: string;
}

/** A position in the whole log (readAll): events are ordered by (txId, globalPosition). */
export interface LogPosition {
  txId: string;
  globalPosition: number;
}
export const LOG_START: LogPosition = Object.freeze({ txId: '0', globalPosition: 0 });

export function positionOf(e: Pick<StoredEvent, 'txId' | 'globalPosition'>): LogPosition {
  return { txId: e.txId, globalPosition: e.globalPosition };
}

/** The stream moved on since the caller read it: reload, decide again, retry. */
export class ConcurrencyError extends Error {
  readonly code = 'CONCURRENCY';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion?: number,
  ) {
    super(
      `stream ${streamId}: expected version ${expectedVersion}${actualVersion === undefined ? ' but another writer appended first' : ` but it is at ${actualVersion}`}`,
    );
    this.name = 'ConcurrencyError';
  }
}

interface EventRow {
  global_position: number | string;
  tx_text: string;
  stream_id: string;
  version: number;
  event_uuid: string;
  event_type: string;
  data: unknown;
  metadata: EventMetadata;
  occurred_at: Date | string;
  recorded_at: Date | string;
}

const COLUMNS =
  'global_position, tx_id::text AS tx_text, stream_id, version, event_id::text AS event_uuid, event_type, data, metadata, occurred_at, recorded_at';

/** The stored columns, as both the hot table and the archive hold them. */
const RAW_COLUMNS =
  'global_position, stream_id, version, event_id, event_type, data, metadata, occurred_at, recorded_at, tx_id';

function iso(v: Date | string): string {
  return v instanceof Date ? v.toISOString() : new Date(v).toISOString();
}

function toStored<T>(r: EventRow): StoredEvent<T> {
  return {
    globalPosition: Number(r.global_position),
    txId: String(r.tx_text),
    streamId: r.stream_id,
    version: Number(r.version),
    eventId: r.event_uuid,
    eventType: r.event_type,
    data: r.data as T,
    metadata: r.metadata,
    occurredAt: iso(r.occurred_at),
    recordedAt: iso(r.recorded_at),
  };
}

function validateNewEvent(e: NewEvent, i: number): void {
  const where = `events[${i}]`;
  if (typeof e.eventId !== 'string' || !isUuid(e.eventId))
    throw new TypeError(`${where}.eventId must be a UUID, got ${JSON.stringify(e.eventId)}`);
  if (typeof e.eventType !== 'string' || e.eventType.length === 0)
    throw new TypeError(`${where}.eventType must be a non-empty string`);
  const t = e.occurredAt instanceof Date ? e.occurredAt.getTime() : Date.parse(String(e.occurredAt));
  if (Number.isNaN(t)) throw new TypeError(`${where}.occurredAt must be a date, got ${JSON.stringify(e.occurredAt)}`);
}

/**
 * Appends events to a stream inside the caller's transaction (so that the state change, the
 * inbox row and the outbox rows commit together).
 *
 * expectedVersion is the version of the last event the caller saw (0 for a new stream). The
 * check and the insert are one statement; two writers that both saw version n race on the
 * unique (stream_id, version) index and the loser gets a ConcurrencyError. The error aborts
 * the caller's transaction, which must be rolled back (let it propagate out of transaction()).
 */
export async function appendToStream(
  tx: Queryable,
  streamId: string,
  expectedVersion: number,
  events: readonly NewEvent[],
): Promise<StoredEvent[]> {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
  if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0)
    throw new TypeError(`expectedVersion must be an integer >= 0, got ${expectedVersion}`);
  if (events.length === 0) return [];
  events.forEach(validateNewEvent);
  const docs = events.map((e) => ({
    eventId: e.eventId,
    eventType: e.eventType,
    data: e.data ?? null,
    occurredAt: e.occurredAt instanceof Date ? e.occurredAt.toISOString() : e.occurredAt,
    metadata: {
      ...e.metadata,
      causationId: e.causationId ?? null,
      ...traceOf(e),
    },
  }));
  let rows: EventRow[];
  try {
    // The version check raises (CM409) instead of inserting nothing: a mismatch always aborts the transaction,
    // even one whose COMMIT is already on its way (Transaction.final).
    const res = await tx.query<EventRow>(
      `WITH cur AS (SELECT commerce_expect_version($1, coalesce(max(version), 0)::int, $2::int) AS v
                      FROM events WHERE stream_id = $1)
       INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, occurred_at)
       SELECT $1, $2::int + e.ord::int, (e.doc->>'eventId')::uuid, e.doc->>'eventType', e.doc->'data',
              e.doc->'metadata', (e.doc->>'occurredAt')::timestamptz
         FROM cur, jsonb_array_elements($3::jsonb) WITH ORDINALITY AS e(doc, ord)
       RETURNING ${COLUMNS}`,
      [streamId, expectedVersion, JSON.stringify(docs)],
    );
    rows = res.rows;
  } catch (err) {
    if (pgErrorCode(err) === PG.uniqueViolation && /stream_version|stream_id, version/.test(constraintOf(err)))
      throw new ConcurrencyError(streamId, expectedVersion);
    if (pgErrorCode(err) === VERSION_MISMATCH)
      throw new ConcurrencyError(streamId, expectedVersion, Number((err as { detail?: string }).detail));
    throw err;
  }
  return rows.map((r) => toStored(r)).sort((a, b) => a.version - b.version);
}

/** SQLSTATE raised by commerce_expect_version (schema.ts). */
const VERSION_MISMATCH = 'CM409';

function constraintOf(err: unknown): string {
  const e = err as { constraint?: string; message?: string; detail?: string };
  return `${e.constraint ?? ''} ${e.message ?? ''} ${e.detail ?? ''}`;
}

/** The events of one stream, oldest first, from fromVersion (inclusive, default 1). */
export async function readStream<T = unknown>(
  db: Queryable,
  streamId: string,
  fromVersion = 1,
): Promise<StoredEvent<T>[]> {
  const res = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM events WHERE stream_id = $1 AND version >= $2 ORDER BY events.version`,
    [streamId, fromVersion],
  );
  return res.rows.map((r) => toStored<T>(r));
}

/**
 * Reads the whole log after `after` (exclusive), at most `limit` events, in commit-safe order.
 * Continue with `positionOf(last event returned)`.
 *
 * Why not "global_position > last seen": a sequence value is taken at insert but becomes visible
 * at commit, so a transaction that commits late carries a smaller position than rows already
 * read, and such a reader skips it for ever. Instead:
 *  - every row carries the id of its writing transaction (tx_id xid8: pg_current_xact_id(),
 *    assigned when the transaction first writes, monotonically, cluster-wide);
 *  - we return only rows whose tx_id is below pg_snapshot_xmin(pg_current_snapshot()), the
 *    oldest transaction still running: every transaction below it has committed or aborted, and
 *    any transaction that writes later gets a larger id, so the set of rows below xmin never grows;
 *  - rows are ordered by (tx_id, global_position) and the position is that pair, so a row that
 *    becomes visible later always sorts after everything already returned.
 * Together: nothing is ever skipped and nothing is returned twice. Archived streams (events_archive, moved whole
 * with their positions) are merged back in, so a reader from position 0 sees all history. The price is that events of
 * a committed transaction wait until every older transaction (of any database of the cluster)
 * has finished; keep transactions short. Called inside a transaction that has itself written
 * events, those events are not returned (that transaction is still running).
 */
export async function readAll<T = unknown>(
  db: Queryable,
  after: LogPosition = LOG_START,
  limit = 500,
  o: ReadAllOptions = {},
): Promise<StoredEvent<T>[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError(`limit must be a positive integer, got ${limit}`);
  if (!/^\d+$/.test(after.txId)) throw new TypeError(`after.txId must be a decimal transaction id, got ${after.txId}`);
  // The hot table and the archive (streams moved out whole, with their positions), merged in commit order.
  const res = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM (
       (SELECT ${RAW_COLUMNS} FROM events
         WHERE (tx_id < pg_snapshot_xmin(pg_current_snapshot()) OR $4::boolean)
           AND (tx_id, global_position) > ($1::xid8, $2::bigint)
         ORDER BY tx_id, global_position LIMIT $3)
       UNION ALL
       (SELECT ${RAW_COLUMNS} FROM events_archive
         WHERE (tx_id, global_position) > ($1::xid8, $2::bigint)
         ORDER BY tx_id, global_position LIMIT $3)
     ) AS events
     ORDER BY events.tx_id, events.global_position
     LIMIT $3`,
    [after.txId, after.globalPosition, limit, o.pastHorizon === true],
  );
  return res.rows.map((r) => toStored<T>(r));
}

export interface ReadAllOptions {
  /**
   * Also return the committed events above the horizon (pg_snapshot_xmin): everything this snapshot sees. Not safe to
   * resume from (an older transaction may still commit below the last event returned); for a reader that holds off
   * every writer it cares about, as an inline projection's rebuild does while it swaps (projections.ts).
   */
  pastHorizon?: boolean;
}

/** The events of one archived stream (moved out of the hot table whole), oldest first; [] when none are. */
export async function readArchivedStream<T = unknown>(db: Queryable, streamId: string): Promise<StoredEvent<T>[]> {
  const res = await db.query<EventRow>(
    `SELECT ${COLUMNS} FROM events_archive AS events WHERE stream_id = $1 ORDER BY events.version`,
    [streamId],
  );
  return res.rows.map((r) => toStored<T>(r));
}

/**
 * Moves whole streams from the hot table into the archive, in the caller's transaction: same rows, same positions.
 * Answers how many events moved.
 */
export async function archiveStreams(tx: Queryable, streamIds: readonly string[]): Promise<number> {
  if (streamIds.length === 0) return 0;
  const moved = await tx.query(
    `WITH gone AS (DELETE FROM events WHERE stream_id = ANY($1::text[]) RETURNING ${RAW_COLUMNS})
     INSERT INTO events_archive (${RAW_COLUMNS}) SELECT ${RAW_COLUMNS} FROM gone`,
    [streamIds],
  );
  return moved.rowCount;
}
