import type { Queryable } from './db/port.js';
import { RetentionJob, type RetentionOptions } from './retention.js';

/*
 * The inbox: a row (consumer, message_id) per message a consumer handled, written in the same transaction as the
 * message's effect (commitChange, effect.ts), so that a second delivery commits nothing. This file keeps the table
 * from growing for ever.
 */

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
