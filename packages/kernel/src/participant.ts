/**
 * What inventory and payment share as participants of the order saga: the messages of one order are applied one
 * after the other (an advisory lock per order, held to the end of the transaction), and a rollback that arrives
 * before the request it undoes is remembered (a rollback marker), so that the late request is not applied.
 */
import { allInOrder, type Queryable } from './db/port.js';
import type { Write } from './effect.js';

/**
 * Takes the order's lock for `participant` and reads whether a rollback came first. Both statements are issued at
 * once; a store adds its own reads behind them (they run after the lock).
 */
export async function lockOrderForParticipant(
  q: Queryable,
  participant: string,
  orderId: string,
): Promise<{ rollbackCameFirst: boolean }> {
  const [, marker] = await allInOrder([
    q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${participant}:order:${orderId}`]),
    q.query('SELECT 1 FROM rollback_markers WHERE order_id = $1', [orderId]),
  ] as const);
  return { rollbackCameFirst: marker.rowCount > 0 };
}

/**
 * Takes, without waiting, the locks of those orders that nobody holds right now (a background job, say, that leaves
 * an order being handled for its next pass). Answers the orders locked, held to the end of the transaction.
 */
export async function tryLockOrdersForParticipant(
  q: Queryable,
  participant: string,
  orderIds: readonly string[],
): Promise<Set<string>> {
  if (orderIds.length === 0) return new Set();
  // The same key as lockOrderForParticipant's.
  const res = await q.query<{ order_id: string }>(
    `SELECT o.order_id FROM unnest($2::text[]) AS o(order_id)
      WHERE pg_try_advisory_xact_lock(hashtext($1 || ':order:' || o.order_id))`,
    [participant, orderIds],
  );
  return new Set(res.rows.map((r) => r.order_id));
}

/** Remembers that a rollback of the order came before its request (kept once; a second marker changes nothing). */
export function rollbackMarker(orderId: string, causeEventId: string | null, at: Date): Write {
  return {
    sql: `INSERT INTO rollback_markers (order_id, cause_event_id, created_at) VALUES ($1, $2, $3)
          ON CONFLICT (order_id) DO NOTHING`,
    params: [orderId, causeEventId, at],
  };
}

/** When a rollback of the order came before its request, if one did. */
export async function rollbackMarkerAt(q: Queryable, orderId: string): Promise<Date | undefined> {
  const res = await q.query<{ created_at: Date }>('SELECT created_at FROM rollback_markers WHERE order_id = $1', [
    orderId,
  ]);
  const at = res.rows[0]?.created_at;
  return at === undefined ? undefined : new Date(at);
}
