import type { Database, Queryable } from './db/port.js';
import type { DedupCache } from './service.js';

/**
 * Records that `consumer` handled `messageId`, inside the caller's transaction. Returns false
 * if it was recorded before (a duplicate: the caller must not apply the effect again). The row
 * commits or rolls back with the effect, so it is the record of truth.
 */
export async function recordInbox(tx: Queryable, consumer: string, messageId: string): Promise<boolean> {
  if (typeof consumer !== 'string' || !consumer) throw new TypeError('consumer must be a non-empty string');
  if (typeof messageId !== 'string' || !messageId) throw new TypeError('messageId must be a non-empty string');
  const res = await tx.query(
    'INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT (consumer, message_id) DO NOTHING RETURNING 1 AS inserted',
    [consumer, messageId],
  );
  return res.rows.length === 1;
}

export interface HandleOnceOptions {
  db: Database;
  dedup: DedupCache;
  consumer: string;
  messageId: string;
}

export interface HandleOnceResult<T> {
  /** True when this call applied the effect; false for a duplicate. */
  applied: boolean;
  result?: T;
}

export function dedupKey(consumer: string, messageId: string): string {
  return `${consumer}:${messageId}`;
}

/**
 * Idempotent consumer: applies `effect` at most once per (consumer, messageId).
 * The cache only skips obvious duplicates fast; the inbox row, inserted in the same
 * transaction as the effect, decides. Two deliveries racing: the second blocks on the
 * primary key until the first commits, then finds the row and applies nothing.
 */
export async function handleOnce<T>(
  o: HandleOnceOptions,
  effect: (tx: Queryable) => Promise<T>,
): Promise<HandleOnceResult<T>> {
  const key = dedupKey(o.consumer, o.messageId);
  if (await o.dedup.seen(key).catch(() => false)) return { applied: false };
  const out = await o.db.transaction(async (tx): Promise<HandleOnceResult<T>> => {
    if (!(await recordInbox(tx, o.consumer, o.messageId))) return { applied: false };
    return { applied: true, result: await effect(tx) };
  });
  await o.dedup.remember(key).catch(() => {});
  return out;
}

/** Deletes inbox rows older than `before` (keep them longer than any redelivery horizon). */
export async function deleteInboxBefore(db: Queryable, before: Date): Promise<number> {
  const res = await db.query('DELETE FROM inbox WHERE handled_at < $1', [before]);
  return res.rowCount;
}
