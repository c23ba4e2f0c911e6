import type { Queryable } from '@commerce/kernel';
import type { OrderLine } from '../domain/reservation.js';
import { applyToOrder, type InventoryDeps, lockProducts } from './reserveStock.js';

/**
 * Releases reservations neither committed nor released within RESERVATION_TTL_MS (movement `expiry`, answer
 * INVENTORY_RELEASED). Safe with several instances: each claims rows with FOR UPDATE SKIP LOCKED, so a
 * reservation is expired by exactly one of them, and the decider re-checks the status under the lock.
 * Returns how many reservations it released.
 */
export async function sweepExpiredReservations(
  deps: Pick<InventoryDeps, 'db' | 'now' | 'newId'>,
  batchSize = 100,
): Promise<number> {
  let total = 0;
  for (;;) {
    const { released, full } = await deps.db.transaction(async (tx) => sweepBatch(tx, deps, batchSize));
    total += released;
    if (!full || released === 0) return total;
  }
}

/**
 * Lock order, so that the sweeper never deadlocks with a consumer: reservation rows (SKIP LOCKED: never waits),
 * then the order's advisory lock (try: an order a consumer is handling right now is left for the next sweep),
 * then every product of the batch at once in productId order, like the consumer.
 */
async function sweepBatch(
  tx: Queryable,
  deps: Pick<InventoryDeps, 'now' | 'newId'>,
  limit: number,
): Promise<{ released: number; full: boolean }> {
  const now = deps.now();
  const due = await tx.query<{ order_id: string; lines: OrderLine[] }>(
    `SELECT order_id, lines FROM reservations
      WHERE status = 'RESERVED' AND expires_at <= $1
      ORDER BY expires_at, order_id
      LIMIT $2
      FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  const mine: { order_id: string; lines: OrderLine[] }[] = [];
  for (const row of due.rows) {
    const got = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [
      `inventory:order:${row.order_id}`,
    ]);
    if (got.rows[0]?.ok) mine.push(row);
  }
  await lockProducts(
    tx,
    mine.flatMap((r) => r.lines.map((l) => l.productId)),
  );
  let released = 0;
  for (const { order_id } of mine) {
    const reply = await applyToOrder(tx, deps, order_id, { type: 'expire', now }, { eventId: null });
    if (reply) released++;
  }
  // A full batch means more may be due; a batch that released nothing stops the loop (no spinning on busy rows).
  return { released, full: due.rows.length === limit };
}
