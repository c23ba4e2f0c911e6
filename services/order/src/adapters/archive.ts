/**
 * `commerce archive --older-than 90d`: the event streams of orders final for that long move to the kernel's
 * events_archive, in batches of one transaction each (killed, a run resumes where the last committed batch left it).
 * The orders' read-model rows stay, so GET /orders/{id} answers as before; their events are read from the archive
 * (store.readOrderStream), and readAll merges the archive back in, so subscriptions and rebuilds see all history.
 * An archived order is final and takes no more events: a late message for it is refused (version check) and ends in
 * the dead-letter queue.
 */
import { archiveStreams, type Database } from '@commerce/kernel';
import { streamIdOf } from '../application/ports.js';
import { FINAL_STATUSES } from '../domain/index.js';

export interface ArchiveProgress {
  /** Orders archived by this run so far, and the events moved with them. */
  orders: number;
  events: number;
  /** Orders to archive when the run started. */
  total: number;
  ordersPerSecond: number;
  etaSeconds: number | null;
  done: boolean;
}

export interface ArchiveOptions {
  /** Orders whose last change is older than this are archived (only final ones). */
  olderThanMs: number;
  batchSize?: number;
  onProgress?(p: ArchiveProgress): void;
}

const FINAL = [...FINAL_STATUSES];

export async function archiveFinalOrders(db: Database, o: ArchiveOptions): Promise<ArchiveProgress> {
  if (!Number.isSafeInteger(o.olderThanMs) || o.olderThanMs < 0)
    throw new TypeError(`olderThanMs must be a whole number of milliseconds >= 0, got ${o.olderThanMs}`);
  const batchSize = o.batchSize ?? 200;
  const cutoff = new Date(Date.now() - o.olderThanMs);
  const pending = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM orders WHERE archived_at IS NULL AND status = ANY($1::text[]) AND updated_at < $2',
    [FINAL, cutoff],
  );
  const started = Date.now();
  const p: ArchiveProgress = {
    orders: 0,
    events: 0,
    total: pending.rows[0]?.n ?? 0,
    ordersPerSecond: 0,
    etaSeconds: null,
    done: false,
  };
  o.onProgress?.({ ...p });
  for (;;) {
    const batch = await db.transaction(async (tx) => {
      const picked = await tx.query<{ order_id: string }>(
        `UPDATE orders SET archived_at = now()
          WHERE order_id IN (SELECT order_id FROM orders
                              WHERE archived_at IS NULL AND status = ANY($1::text[]) AND updated_at < $2
                              ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED)
          RETURNING order_id::text AS order_id`,
        [FINAL, cutoff, batchSize],
      );
      const events = await archiveStreams(
        tx,
        picked.rows.map((r) => streamIdOf(r.order_id)),
      );
      return { orders: picked.rowCount, events };
    });
    p.orders += batch.orders;
    p.events += batch.events;
    const seconds = (Date.now() - started) / 1000;
    p.ordersPerSecond = seconds > 0 ? Math.round(p.orders / seconds) : 0;
    p.etaSeconds = p.ordersPerSecond > 0 ? Math.round(Math.max(0, p.total - p.orders) / p.ordersPerSecond) : null;
    if (batch.orders < batchSize) break;
    o.onProgress?.({ ...p });
    // Yield between batches (PGlite answers without a trip through the event loop).
    await new Promise((r) => setImmediate(r));
  }
  p.done = true;
  p.etaSeconds = 0;
  o.onProgress?.({ ...p });
  return p;
}
