/**
 * Claiming, recording and reading webhook deliveries. A claim is a lease on the row (taken under FOR UPDATE SKIP
 * LOCKED): two order processes never send the same attempt at once, and a process that died mid-send leaves a lease
 * that runs out, after which the delivery is sent again with the same webhook-id.
 */
import type { Database, Queryable } from '@commerce/kernel';
import type { DeliveryDecision, EndpointDecision } from '../domain/webhooks.js';

export interface ClaimedDelivery {
  deliveryId: number;
  endpointId: string;
  eventId: string;
  eventType: string;
  orderId: string | null;
  body: string;
  attempts: number;
  url: string;
  secretEnc: string;
  previousSecretEnc: string | null;
  previousSecretUntil: Date | null;
  failingSince: Date | null;
}

/**
 * Due pending deliveries of enabled endpoints whose order has no earlier pending delivery to the same endpoint
 * (per-order order), leased to `owner` until now + leaseMs.
 */
export async function claimDueDeliveries(
  db: Database,
  owner: string,
  now: Date,
  leaseMs: number,
  limit: number,
): Promise<ClaimedDelivery[]> {
  const r = await db.query<{
    delivery_id: string | number;
    endpoint_id: string;
    event_id: string;
    event_type: string;
    order_id: string | null;
    body: string;
    attempts: number;
    url: string;
    secret_enc: string;
    previous_secret_enc: string | null;
    previous_secret_until: Date | string | null;
    failing_since: Date | string | null;
  }>(
    `WITH due AS (
       SELECT d.delivery_id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND e.enabled
          AND (d.lease_until IS NULL OR d.lease_until < $1)
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                           WHERE p.endpoint_id = d.endpoint_id AND p.order_id = d.order_id AND p.status = 'pending'
                             AND p.order_version < d.order_version)
        ORDER BY d.next_attempt_at, d.delivery_id LIMIT $4
        FOR UPDATE OF d SKIP LOCKED)
     UPDATE webhook_deliveries w SET lease_owner = $2, lease_until = $1::timestamptz + make_interval(secs => $3::double precision / 1000)
       FROM due, webhook_endpoints e
      WHERE w.delivery_id = due.delivery_id AND e.endpoint_id = w.endpoint_id
     RETURNING w.delivery_id, w.endpoint_id::text AS endpoint_id, w.event_id::text AS event_id, w.event_type,
               w.order_id::text AS order_id, w.body, w.attempts, e.url, e.secret_enc, e.previous_secret_enc,
               e.previous_secret_until, e.failing_since`,
    [now, owner, leaseMs, limit],
  );
  return r.rows.map((d) => ({
    deliveryId: Number(d.delivery_id),
    endpointId: d.endpoint_id,
    eventId: d.event_id,
    eventType: d.event_type,
    orderId: d.order_id,
    body: d.body,
    attempts: d.attempts,
    url: d.url,
    secretEnc: d.secret_enc,
    previousSecretEnc: d.previous_secret_enc,
    previousSecretUntil: d.previous_secret_until ? new Date(d.previous_secret_until) : null,
    failingSince: d.failing_since ? new Date(d.failing_since) : null,
  }));
}

export interface AttemptRecord {
  deliveryId: number;
  endpointId: string;
  owner: string;
  attempt: number;
  attemptedAt: Date;
  statusCode: number | null;
  latencyMs: number;
  responseBody: string | null;
  error: string | null;
  delivery: DeliveryDecision;
  endpoint: EndpointDecision;
  now: Date;
}

/**
 * Logs the attempt and applies the decision, in one transaction, only while this process still holds the lease
 * (else another took the delivery over and its outcome counts). True when recorded.
 */
export async function recordAttempt(db: Database, a: AttemptRecord): Promise<boolean> {
  return db.transaction(async (tx) => {
    const d = a.delivery;
    const status = d.kind === 'retry' ? 'pending' : d.kind;
    const moved = await tx.query(
      `UPDATE webhook_deliveries SET status = $3, attempts = $4, next_attempt_at = coalesce($5, next_attempt_at),
              lease_owner = NULL, lease_until = NULL, last_error = $6,
              finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $7::timestamptz END
        WHERE delivery_id = $1 AND lease_owner = $2 AND status = 'pending'`,
      [
        a.deliveryId,
        a.owner,
        status,
        a.attempt,
        d.kind === 'retry' ? d.at : null,
        d.kind === 'failed'
          ? d.reason
          : (a.error ?? (a.statusCode && d.kind !== 'succeeded' ? `HTTP ${a.statusCode}` : null)),
        a.now,
      ],
    );
    if (moved.rowCount === 0) return false;
    await tx.query(
      `INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, latency_ms, response_body, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [a.deliveryId, a.attempt, a.attemptedAt, a.statusCode, a.latencyMs, a.responseBody, a.error],
    );
    if (a.endpoint.disable)
      await tx.query(
        `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, disabled_at = $3, failing_since = $4, updated_at = $3
          WHERE endpoint_id = $1 AND enabled`,
        [a.endpointId, a.endpoint.disable, a.now, a.endpoint.failingSince],
      );
    else
      await tx.query(
        `UPDATE webhook_endpoints SET failing_since = $2 WHERE endpoint_id = $1 AND failing_since IS DISTINCT FROM $2`,
        [a.endpointId, a.endpoint.failingSince],
      );
    return true;
  });
}

/** A test delivery (`commerce webhooks test`), sent like any other. */
export async function insertTestDelivery(
  db: Queryable,
  d: { endpointId: string; eventId: string; eventType: string; body: string; now: Date },
): Promise<number> {
  const r = await db.query<{ delivery_id: string | number }>(
    `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, body, status, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, 'pending', $5, $5) RETURNING delivery_id`,
    [d.endpointId, d.eventId, d.eventType, d.body, d.now],
  );
  return Number(r.rows[0]?.delivery_id);
}

/** Sends a finished delivery again (same webhook-id, attempts counted from 0); false when there is no such delivery. */
export async function redeliverOne(db: Queryable, deliveryId: number, now: Date): Promise<boolean> {
  const r = await db.query(
    `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $2, finished_at = NULL,
            lease_owner = NULL, lease_until = NULL
      WHERE delivery_id = $1 AND status <> 'pending'`,
    [deliveryId, now],
  );
  return r.rowCount > 0;
}

/** Sends again every failed delivery of an endpoint created since `since`; how many. */
export async function redeliverFailed(db: Queryable, endpointId: string, since: Date, now: Date): Promise<number> {
  const r = await db.query(
    `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, finished_at = NULL,
            lease_owner = NULL, lease_until = NULL
      WHERE endpoint_id = $1 AND status = 'failed' AND created_at >= $2`,
    [endpointId, since, now],
  );
  return r.rowCount;
}

export interface DeliveryLogEntry {
  deliveryId: number;
  endpointId: string;
  eventId: string;
  eventType: string;
  orderId: string | null;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
  log: {
    attempt: number;
    attemptedAt: string;
    statusCode: number | null;
    latencyMs: number;
    responseBody: string | null;
    error: string | null;
  }[];
}

/** Deliveries, newest first, with every attempt kept: of one endpoint, one order, or both. */
export async function deliveryLog(
  db: Queryable,
  q: { endpointId?: string; orderId?: string; status?: string; limit: number },
): Promise<DeliveryLogEntry[]> {
  const r = await db.query<{
    delivery_id: string | number;
    endpoint_id: string;
    event_id: string;
    event_type: string;
    order_id: string | null;
    status: DeliveryLogEntry['status'];
    attempts: number;
    next_attempt_at: Date | string;
    last_error: string | null;
    created_at: Date | string;
    finished_at: Date | string | null;
    log:
      | {
          attempt: number;
          attempted_at: string;
          status_code: number | null;
          latency_ms: number;
          response_body: string | null;
          error: string | null;
        }[]
      | null;
  }>(
    `SELECT d.delivery_id, d.endpoint_id::text AS endpoint_id, d.event_id::text AS event_id, d.event_type,
            d.order_id::text AS order_id, d.status, d.attempts, d.next_attempt_at, d.last_error, d.created_at, d.finished_at,
            (SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'attempted_at', a.attempted_at,
                     'status_code', a.status_code, 'latency_ms', a.latency_ms, 'response_body', a.response_body,
                     'error', a.error) ORDER BY a.attempt_id)
               FROM webhook_attempts a WHERE a.delivery_id = d.delivery_id) AS log
       FROM webhook_deliveries d
      WHERE ($1::uuid IS NULL OR d.endpoint_id = $1) AND ($2::uuid IS NULL OR d.order_id = $2)
        AND ($3::text IS NULL OR d.status = $3)
      ORDER BY d.delivery_id DESC LIMIT $4`,
    [q.endpointId ?? null, q.orderId ?? null, q.status ?? null, q.limit],
  );
  return r.rows.map((d) => ({
    deliveryId: Number(d.delivery_id),
    endpointId: d.endpoint_id,
    eventId: d.event_id,
    eventType: d.event_type,
    orderId: d.order_id,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? new Date(d.next_attempt_at).toISOString() : null,
    lastError: d.last_error,
    createdAt: new Date(d.created_at).toISOString(),
    finishedAt: d.finished_at ? new Date(d.finished_at).toISOString() : null,
    log: (d.log ?? []).map((a) => ({
      attempt: a.attempt,
      attemptedAt: new Date(a.attempted_at).toISOString(),
      statusCode: a.status_code,
      latencyMs: a.latency_ms,
      responseBody: a.response_body,
      error: a.error,
    })),
  }));
}

/** When the next pending delivery falls due (the worker sleeps until then), if any. */
export async function nextDueAt(db: Queryable): Promise<Date | undefined> {
  const r = await db.query<{ at: Date | string | null }>(
    `SELECT min(greatest(d.next_attempt_at, coalesce(d.lease_until, d.next_attempt_at))) AS at
       FROM webhook_deliveries d JOIN webhook_endpoints e ON e.endpoint_id = d.endpoint_id
      WHERE d.status = 'pending' AND e.enabled`,
  );
  const at = r.rows[0]?.at;
  return at ? new Date(at) : undefined;
}

/** For the metrics: age of the oldest pending delivery per endpoint, and how many endpoints are disabled. */
export async function webhookGauges(
  db: Queryable,
  now: Date,
): Promise<{ oldestPending: { endpointId: string; seconds: number }[]; disabled: number }> {
  const oldest = await db.query<{ endpoint_id: string; created_at: Date | string }>(
    `SELECT endpoint_id::text AS endpoint_id, min(created_at) AS created_at FROM webhook_deliveries
      WHERE status = 'pending' GROUP BY endpoint_id`,
  );
  const disabled = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_endpoints WHERE NOT enabled`);
  return {
    oldestPending: oldest.rows.map((o) => ({
      endpointId: o.endpoint_id,
      seconds: Math.max(0, (now.getTime() - new Date(o.created_at).getTime()) / 1000),
    })),
    disabled: disabled.rows[0]?.n ?? 0,
  };
}

/** The retention job: attempts, and finished deliveries, older than `before`. */
export async function pruneWebhookLog(db: Queryable, before: Date): Promise<number> {
  const a = await db.query(`DELETE FROM webhook_attempts WHERE attempted_at < $1`, [before]);
  const d = await db.query(`DELETE FROM webhook_deliveries WHERE status <> 'pending' AND finished_at < $1`, [before]);
  return a.rowCount + d.rowCount;
}
