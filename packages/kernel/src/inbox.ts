import { allInOrder, type Database, PG, pgErrorCode, type Queryable, type Transaction } from './db/port.js';
import { dedupKey } from './effect.js';
import { RetentionJob, type RetentionOptions } from './retention.js';
import type { DedupCache } from './service.js';

/**
 * Records that `consumer` handled `messageId`, inside the caller's transaction. Returns false
 * if it was recorded before (a duplicate: the caller must not apply the effect again). The row
 * commits or rolls back with the effect, so it is the record of truth.
 */
export async function recordInbox(tx: Queryable, consumer: string, messageId: string): Promise<boolean> {
  checkInboxKey(consumer, messageId);
  const res = await tx.query(
    'INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT (consumer, message_id) DO NOTHING RETURNING 1 AS inserted',
    [consumer, messageId],
  );
  return res.rows.length === 1;
}

function checkInboxKey(consumer: unknown, messageId: unknown): void {
  if (typeof consumer !== 'string' || !consumer) throw new TypeError('consumer must be a non-empty string');
  if (typeof messageId !== 'string' || !messageId) throw new TypeError('messageId must be a non-empty string');
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

/**
 * Idempotent consumer: applies `effect` at most once per (consumer, messageId).
 * The cache only skips obvious duplicates fast; the inbox row, inserted in the same
 * transaction as the effect, decides. Two deliveries racing: the second blocks on the
 * primary key until the first commits, then finds the row and applies nothing.
 *
 * The effect's statements are issued right behind the inbox insert, without waiting for its answer, so that
 * they share its batch and round trip (pg), and the effect may end the transaction with Transaction.final (its
 * writes and the COMMIT in one more). They run after the insert on the server, so a racing duplicate still waits
 * there first. A duplicate the cache missed (rare) fails the insert with a unique violation, which aborts the
 * transaction: whatever the effect did is rolled back, its result dropped, nothing applied. The cache's answer
 * arrives while the transaction runs and is checked before the COMMIT: a duplicate it knows commits nothing
 * either (it costs a round trip and a rollback instead of nothing; a new message saves the cache's round trip).
 */
export async function handleOnce<T>(
  o: HandleOnceOptions,
  effect: (tx: Transaction) => Promise<T>,
): Promise<HandleOnceResult<T>> {
  checkInboxKey(o.consumer, o.messageId);
  const key = dedupKey(o.consumer, o.messageId);
  // The cache is asked while the transaction starts, so that a new message (the usual case) does not wait for
  // it; its answer is needed only before the COMMIT. A message it knows is rolled back unapplied.
  const seen = o.dedup.seen(key).catch(() => false);
  let out: HandleOnceResult<T>;
  try {
    out = await o.db.transaction(async (tx): Promise<HandleOnceResult<T>> => {
      const inbox = tx
        .query('INSERT INTO inbox (consumer, message_id) VALUES ($1, $2)', [o.consumer, o.messageId])
        .catch((err: unknown) => {
          throw pgErrorCode(err) === PG.uniqueViolation ? new DuplicateDelivery() : err;
        });
      const guarded: Transaction = {
        query: (sql, params) => tx.query(sql, params),
        final: async (statements) => {
          // Observed at once: a statement can fail (a broken connection fails them all) while the cache is still
          // answering, and a rejection nobody observes crashes the process.
          const settled = Promise.allSettled(statements);
          if (await seen) {
            await settled;
            throw new DuplicateDelivery();
          }
          return tx.final(statements);
        },
      };
      // Both awaited whatever happens (the effect never outlives its transaction); the inbox's failure first.
      const [, result] = await allInOrder([inbox, effect(guarded)]);
      if (await seen) throw new DuplicateDelivery(); // an effect that did not end with final(): not committed yet
      return { applied: true, result };
    });
  } catch (err) {
    if (!(err instanceof DuplicateDelivery)) throw err;
    out = { applied: false };
  }
  await o.dedup.remember(key).catch(() => {});
  return out;
}

/** The inbox already holds the message: its effect was applied before. */
class DuplicateDelivery extends Error {}

/**
 * Deletes up to `limit` inbox rows handled before `before`, oldest first; returns how many. Keep rows longer than
 * any redelivery horizon: a message delivered again after its row is gone would be applied again.
 */
export async function deleteInboxBefore(db: Queryable, before: Date, limit: number): Promise<number> {
  const res = await db.query(
    `DELETE FROM inbox WHERE (consumer, message_id) IN (
       SELECT consumer, message_id FROM inbox WHERE handled_at < $1 ORDER BY handled_at LIMIT $2)`,
    [before, limit],
  );
  return res.rowCount;
}

export type InboxRetentionOptions = RetentionOptions;

/** The inbox's retention job: rows handled longer ago than `retentionMs` are deleted every `sweepMs`, in batches. */
export class InboxRetention extends RetentionJob {
  constructor(o: InboxRetentionOptions) {
    super('inbox', deleteInboxBefore, o);
  }
}
