/**
 * The rows behind checkpointed subscriptions (subscription.ts; tables: kernel migration 8): one checkpoint row per
 * subscription holding its readAll position, its lease and the event it is failing on, and the parked events.
 */
import type { Queryable } from './db/port.js';
import type { LogPosition, StoredEvent } from './eventStore.js';

/** The checkpoint moved under us (another instance took the lease and committed): this instance must stand down. */
export class CheckpointMoved extends Error {
  override readonly name = 'CheckpointMoved';
  constructor(readonly subscription: string) {
    super(`subscription ${subscription}: the checkpoint or the lease moved to another instance`);
  }
}

export interface CheckpointRow {
  position: LogPosition;
  handled: number;
  state: 'running' | 'stopped';
  failingEventId: string | null;
  failingAttempts: number;
}

interface RawCheckpoint {
  tx_text: string;
  global_position: number | string;
  events_handled: number | string;
  state: 'running' | 'stopped';
  failing_event_id: string | null;
  failing_attempts: number;
}

function toCheckpoint(r: RawCheckpoint): CheckpointRow {
  return {
    position: { txId: String(r.tx_text), globalPosition: Number(r.global_position) },
    handled: Number(r.events_handled),
    state: r.state,
    failingEventId: r.failing_event_id,
    failingAttempts: Number(r.failing_attempts),
  };
}

const CHECKPOINT_COLUMNS =
  'tx_id::text AS tx_text, global_position, events_handled, state, failing_event_id::text AS failing_event_id, failing_attempts';

export async function ensureCheckpoint(db: Queryable, name: string): Promise<void> {
  await db.query('INSERT INTO subscription_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
}

/** Takes the lease when it is free, expired or already ours; answers the checkpoint then, undefined otherwise. */
export async function acquireLease(
  db: Queryable,
  name: string,
  owner: string,
  leaseMs: number,
): Promise<CheckpointRow | undefined> {
  const res = await db.query<RawCheckpoint>(
    `UPDATE subscription_checkpoints
        SET owner = $2, lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
      WHERE name = $1 AND (owner IS NULL OR owner = $2 OR lease_expires_at < now())
      RETURNING ${CHECKPOINT_COLUMNS}`,
    [name, owner, leaseMs],
  );
  const row = res.rows[0];
  return row ? toCheckpoint(row) : undefined;
}

/** Renews a lease we hold and answers the subscription's state (resumed by an operator?); undefined when lost. */
export async function renewLease(
  db: Queryable,
  name: string,
  owner: string,
  leaseMs: number,
): Promise<'running' | 'stopped' | undefined> {
  const res = await db.query<{ state: 'running' | 'stopped' }>(
    `UPDATE subscription_checkpoints SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000)
      WHERE name = $1 AND owner = $2 RETURNING state`,
    [name, owner, leaseMs],
  );
  return res.rows[0]?.state;
}

export async function releaseLease(db: Queryable, name: string, owner: string): Promise<void> {
  await db.query(
    'UPDATE subscription_checkpoints SET owner = NULL, lease_expires_at = now() WHERE name = $1 AND owner = $2',
    [name, owner],
  );
}

/**
 * Moves the checkpoint from `from` to `to` inside the handler's transaction, first thing (the row lock then orders
 * two would-be leaders), guarded by the owner and by `from`: a stale instance changes nothing and gets CheckpointMoved,
 * which rolls its transaction back with the handler's writes.
 */
export async function advanceCheckpoint(
  tx: Queryable,
  name: string,
  owner: string,
  from: LogPosition,
  to: LogPosition,
  count: number,
): Promise<void> {
  const res = await tx.query(
    `UPDATE subscription_checkpoints
        SET tx_id = $5::xid8, global_position = $6, events_handled = events_handled + $7,
            failing_event_id = NULL, failing_attempts = 0, last_error = NULL, updated_at = now()
      WHERE name = $1 AND owner = $2 AND tx_id = $3::xid8 AND global_position = $4 RETURNING 1`,
    [name, owner, from.txId, from.globalPosition, to.txId, to.globalPosition, count],
  );
  if (res.rowCount === 0) throw new CheckpointMoved(name);
}

/** Remembers a failed attempt at an event, so that a restart goes on counting (never loops for ever). */
export async function recordFailure(
  db: Queryable,
  name: string,
  owner: string,
  eventId: string,
  attempts: number,
  error: string,
): Promise<void> {
  await db.query(
    `UPDATE subscription_checkpoints SET failing_event_id = $3::uuid, failing_attempts = $4, last_error = $5,
            updated_at = now()
      WHERE name = $1 AND owner = $2`,
    [name, owner, eventId, attempts, error.slice(0, 1000)],
  );
}

export async function parkEvent(
  tx: Queryable,
  name: string,
  e: StoredEvent,
  attempts: number,
  reason: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO subscription_parked (subscription, event_id, stream_id, version, event_type, global_position, tx_id,
                                      attempts, reason)
     VALUES ($1, $2::uuid, $3, $4, $5, $6, $7::xid8, $8, $9)
     ON CONFLICT (subscription, event_id) DO UPDATE SET attempts = EXCLUDED.attempts, reason = EXCLUDED.reason,
                                                        parked_at = now()`,
    [name, e.eventId, e.streamId, e.version, e.eventType, e.globalPosition, e.txId, attempts, reason.slice(0, 1000)],
  );
}

/** Stops a subscription on an event it cannot handle: it stays where it is until resumed. */
export async function stopAtFailure(db: Queryable, name: string, owner: string, reason: string): Promise<void> {
  await db.query(
    `UPDATE subscription_checkpoints SET state = 'stopped', last_error = $3, updated_at = now()
      WHERE name = $1 AND owner = $2`,
    [name, owner, reason.slice(0, 1000)],
  );
}

/** Lets a stopped subscription run again (its failing event gets a fresh set of attempts). */
export async function resumeSubscription(db: Queryable, name: string): Promise<boolean> {
  const res = await db.query(
    `UPDATE subscription_checkpoints SET state = 'running', failing_attempts = 0, updated_at = now()
      WHERE name = $1 RETURNING 1`,
    [name],
  );
  return res.rowCount > 0;
}

/** True when committed events lie beyond `after` that readAll holds back (an older transaction is still running). */
export async function eventsHeldBack(db: Queryable, after: LogPosition): Promise<boolean> {
  const res = await db.query<{ held: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM events WHERE (tx_id, global_position) > ($1::xid8, $2::bigint)) AS held`,
    [after.txId, after.globalPosition],
  );
  return res.rows[0]?.held === true;
}

export interface SubscriptionStatus {
  name: string;
  position: LogPosition;
  handled: number;
  /** Events in the store beyond the checkpoint. */
  lagEvents: number;
  /** Age of the oldest event beyond the checkpoint (0 when none). */
  lagSeconds: number;
  /** running (a live lease), idle (no instance holds the lease), stopped (at a failing event, see lastError). */
  state: 'running' | 'idle' | 'stopped';
  owner: string | null;
  failingEventId: string | null;
  failingAttempts: number;
  lastError: string | null;
  parked: number;
  updatedAt: string;
}

/** Every subscription of a database with its checkpoint, lag and state (`commerce projections list`). */
export async function subscriptionStatus(db: Queryable): Promise<SubscriptionStatus[]> {
  const res = await db.query<{
    name: string;
    tx_text: string;
    global_position: number | string;
    events_handled: number | string;
    state: 'running' | 'stopped';
    owner: string | null;
    live: boolean;
    failing_event_id: string | null;
    failing_attempts: number;
    last_error: string | null;
    updated_at: Date | string;
    lag_events: number | string;
    lag_seconds: number | string | null;
    parked: number | string;
  }>(
    `SELECT c.name, c.tx_id::text AS tx_text, c.global_position, c.events_handled, c.state, c.owner,
            c.owner IS NOT NULL AND c.lease_expires_at > now() AS live, c.failing_event_id::text AS failing_event_id,
            c.failing_attempts, c.last_error, c.updated_at,
            lag.n AS lag_events, extract(epoch FROM now() - lag.oldest) AS lag_seconds,
            (SELECT count(*) FROM subscription_parked p WHERE p.subscription = c.name) AS parked
       FROM subscription_checkpoints c
       CROSS JOIN LATERAL (SELECT count(*) AS n, min(e.recorded_at) AS oldest FROM events e
                            WHERE (e.tx_id, e.global_position) > (c.tx_id, c.global_position)) AS lag
      ORDER BY c.name`,
  );
  return res.rows.map((r) => ({
    name: r.name,
    position: { txId: String(r.tx_text), globalPosition: Number(r.global_position) },
    handled: Number(r.events_handled),
    lagEvents: Number(r.lag_events),
    lagSeconds: Math.max(0, Math.round(Number(r.lag_seconds ?? 0) * 1000) / 1000),
    state: r.state === 'stopped' ? 'stopped' : r.live ? 'running' : 'idle',
    owner: r.live ? r.owner : null,
    failingEventId: r.failing_event_id,
    failingAttempts: Number(r.failing_attempts),
    lastError: r.last_error,
    parked: Number(r.parked),
    updatedAt: new Date(r.updated_at).toISOString(),
  }));
}

export interface ParkedEvent {
  subscription: string;
  eventId: string;
  streamId: string;
  version: number;
  eventType: string;
  attempts: number;
  reason: string;
  parkedAt: string;
}

export async function listParkedEvents(db: Queryable, subscription: string): Promise<ParkedEvent[]> {
  const res = await db.query<{
    subscription: string;
    event_id: string;
    stream_id: string;
    version: number;
    event_type: string;
    attempts: number;
    reason: string;
    parked_at: Date | string;
  }>(
    `SELECT subscription, event_id::text AS event_id, stream_id, version, event_type, attempts, reason, parked_at
       FROM subscription_parked WHERE subscription = $1 ORDER BY global_position`,
    [subscription],
  );
  return res.rows.map((r) => ({
    subscription: r.subscription,
    eventId: r.event_id,
    streamId: r.stream_id,
    version: Number(r.version),
    eventType: r.event_type,
    attempts: Number(r.attempts),
    reason: r.reason,
    parkedAt: new Date(r.parked_at).toISOString(),
  }));
}
