import { PG, pgErrorCode, type Queryable } from '@commerce/kernel';

/** The key was used before (by a transaction that has committed): look up what for (findIdempotencyKey). */
export class IdempotencyKeyTaken extends Error {
  constructor(readonly key: string) {
    super(`idempotency key ${JSON.stringify(key)} was used before`);
    this.name = 'IdempotencyKeyTaken';
  }
}

/**
 * Claims `key` for this request in the caller's transaction. The unique constraint decides between
 * concurrent requests: a second one waits for the first to commit, then fails with IdempotencyKeyTaken, which
 * aborts its transaction (so it may travel with the order's writes and COMMIT: nothing of it commits).
 */
export async function claimIdempotencyKey(
  tx: Queryable,
  scope: string,
  key: string,
  requestHash: string,
  orderId: string,
): Promise<void> {
  try {
    await tx.query(
      'INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, order_id) VALUES ($1, $2, $3, $4)',
      [scope, key, requestHash, orderId],
    );
  } catch (err) {
    if (pgErrorCode(err) === PG.uniqueViolation) throw new IdempotencyKeyTaken(key);
    throw err;
  }
}

/** What `key` was first used for: the request's hash and the order it created. */
export async function findIdempotencyKey(
  q: Queryable,
  scope: string,
  key: string,
): Promise<{ requestHash: string; orderId: string } | undefined> {
  const res = await q.query<{ request_hash: string; order_id: string }>(
    'SELECT request_hash, order_id::text AS order_id FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2',
    [scope, key],
  );
  const r = res.rows[0];
  return r ? { requestHash: r.request_hash, orderId: r.order_id } : undefined;
}
