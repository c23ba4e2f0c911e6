import { createHash } from 'node:crypto';
import { PG, pgErrorCode, type Queryable } from './db/port.js';
import { RetentionJob, type RetentionOptions } from './retention.js';

/**
 * Idempotency-Key (orders, restocks, top-ups): a retried request is applied once. The key's row commits in the same
 * transaction as the request's effect, and the unique (scope, key) decides between concurrent requests (never
 * check-then-insert; commitChange in effect.ts claims it with the effect). The row keeps the first answer, so a
 * retry answers it again; rows older than the retention
 * (IDEMPOTENCY_KEY_RETENTION_MS) are deleted by IdempotencyKeyRetention, after which the key is new again.
 */

/** The key was used before (by a transaction that has committed): look up what for (findIdempotencyKey). */
export class IdempotencyKeyTaken extends Error {
  constructor(readonly key: string) {
    super(`idempotency key ${JSON.stringify(key)} was used before`);
    this.name = 'IdempotencyKeyTaken';
  }
}

/** Who uses a key (scope: the token's `sub`, so two callers never share keys), and for which request. */
export interface IdempotencyKeyClaim {
  scope: string;
  key: string;
  /** requestHashOf(what the request asks for): the same key with another request is refused. */
  requestHash: string;
}

/** Canonical JSON (sorted keys) so that the same request always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** SHA-256 of the canonical JSON of what a request asks for (route parameters and body). */
export function requestHashOf(request: unknown): string {
  return createHash('sha256').update(canonical(request)).digest('hex');
}

/**
 * Claims the key in the caller's transaction, with the answer a retry gets (`result`, JSON) and the time it was used
 * (the retention counts from it). A second request with the key waits on the unique index for the first to commit,
 * then fails with IdempotencyKeyTaken, which aborts its transaction: nothing of its effect commits.
 */
export async function claimIdempotencyKey(
  tx: Queryable,
  claim: IdempotencyKeyClaim,
  result: unknown,
  at: Date,
): Promise<void> {
  try {
    await tx.query(
      `INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, result, created_at)
       VALUES ($1, $2, $3, $4::jsonb, $5)`,
      [claim.scope, claim.key, claim.requestHash, JSON.stringify(result), at],
    );
  } catch (err) {
    if (pgErrorCode(err) === PG.uniqueViolation) throw new IdempotencyKeyTaken(claim.key);
    throw err;
  }
}

/** What `key` was first used for: the request's hash and the answer it got. */
export async function findIdempotencyKey(
  q: Queryable,
  scope: string,
  key: string,
): Promise<{ requestHash: string; result: unknown; createdAt: Date } | undefined> {
  const res = await q.query<{ request_hash: string; result: unknown; created_at: Date }>(
    'SELECT request_hash, result, created_at FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2',
    [scope, key],
  );
  const r = res.rows[0];
  return r ? { requestHash: r.request_hash, result: r.result, createdAt: new Date(r.created_at) } : undefined;
}

/** Deletes up to `limit` keys used before `before`, oldest first; returns how many. A key deleted is new again. */
export async function deleteIdempotencyKeysBefore(db: Queryable, before: Date, limit: number): Promise<number> {
  const res = await db.query(
    `DELETE FROM idempotency_keys WHERE (scope, idempotency_key) IN (
       SELECT scope, idempotency_key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)`,
    [before, limit],
  );
  return res.rowCount;
}

/** The retention job of a service's idempotency keys (IDEMPOTENCY_KEY_RETENTION_MS), like the inbox's. */
export class IdempotencyKeyRetention extends RetentionJob {
  constructor(o: RetentionOptions) {
    super('idempotency key', deleteIdempotencyKeysBefore, o);
  }
}
