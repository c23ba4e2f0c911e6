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

/** Thrown inside handleOnce's transaction to roll back an effect that ran for a duplicate. */
class DuplicateDelivery extends Error {}

/**
 * Idempotent consumer: applies `effect` at most once per (consumer, messageId).
 * The cache only skips obvious duplicates fast; the inbox row, inserted in the same
 * transaction as the effect, decides. Two deliveries racing: the second blocks on the
 * primary key until the first commits, then finds the row and applies nothing.
 *
 * The effect's first statements are issued right behind the inbox insert, without waiting for its answer, so
 * that they share its round trip (pg pipeline). They run after it on the server, so a racing duplicate still
 * waits there first. When the insert finds the row (a duplicate the cache missed: rare), whatever the effect
 * did is rolled back and its result dropped: a duplicate never applies anything.
 */
export async function handleOnce<T>(
  o: HandleOnceOptions,
  effect: (tx: Queryable) => Promise<T>,
): Promise<HandleOnceResult<T>> {
  const key = dedupKey(o.consumer, o.messageId);
  if (await o.dedup.seen(key).catch(() => false)) return { applied: false };
  let out: HandleOnceResult<T>;
  try {
    out = await o.db.transaction(async (tx): Promise<HandleOnceResult<T>> => {
      const settle = <V>(p: Promise<V>) =>
        p.then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        );
      const fresh = settle(recordInbox(tx, o.consumer, o.messageId));
      // Both are awaited whatever happens: the effect never outlives the transaction it writes in.
      const [inbox, done] = await Promise.all([fresh, settle(effect(tx))]);
      if (!inbox.ok) throw inbox.error;
      if (!inbox.value) throw new DuplicateDelivery();
      if (!done.ok) throw done.error;
      return { applied: true, result: done.value };
    });
  } catch (err) {
    if (!(err instanceof DuplicateDelivery)) throw err;
    out = { applied: false };
  }
  await o.dedup.remember(key).catch(() => {});
  return out;
}

/** Deletes inbox rows older than `before` (keep them longer than any redelivery horizon). */
export async function deleteInboxBefore(db: Queryable, before: Date): Promise<number> {
  const res = await db.query('DELETE FROM inbox WHERE handled_at < $1', [before]);
  return res.rowCount;
}
