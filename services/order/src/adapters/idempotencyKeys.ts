import type { Queryable } from '@commerce/kernel';

/**
 * Claims `key` for this request in the caller's transaction. The unique constraint decides between
 * concurrent requests: a second one waits for the first to commit, then gets its row.
 * Returns undefined when this request owns the key now, else what the key was first used for.
 */
export async function claimIdempotencyKey(
  tx: Queryable,
  scope: string,
  key: string,
  requestHash: string,
  orderId: string,
): Promise<{ requestHash: string; orderId: string } | undefined> {
  const inserted = await tx.query(
    `INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, order_id) VALUES ($1, $2, $3, $4)
     ON CONFLICT (scope, idempotency_key) DO NOTHING RETURNING 1 AS inserted`,
    [scope, key, requestHash, orderId],
  );
  if (inserted.rows.length === 1) return undefined;
  const res = await tx.query<{ request_hash: string; order_id: string }>(
    'SELECT request_hash, order_id::text AS order_id FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2',
    [scope, key],
  );
  const r = res.rows[0];
  if (!r) throw new Error('idempotency key vanished between insert and select');
  return { requestHash: r.request_hash, orderId: r.order_id };
}
