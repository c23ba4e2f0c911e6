import type { Queryable } from '@commerce/kernel';

export type DeadlineKind = 'saga' | 'compensation';

/** Sets (or moves) a deadline in the caller's transaction, with the state that needs it. */
export async function setDeadline(tx: Queryable, orderId: string, kind: DeadlineKind, dueAt: Date): Promise<void> {
  await tx.query(
    `INSERT INTO saga_deadlines (order_id, kind, due_at) VALUES ($1, $2, $3)
     ON CONFLICT (order_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at`,
    [orderId, kind, dueAt],
  );
}

export async function clearDeadline(tx: Queryable, orderId: string, kind: DeadlineKind): Promise<void> {
  await tx.query('DELETE FROM saga_deadlines WHERE order_id = $1 AND kind = $2', [orderId, kind]);
}

/**
 * Claims one due deadline for the rest of the caller's transaction: other workers skip it
 * (SKIP LOCKED) and find it gone once this transaction deletes it and commits.
 */
export async function claimDueDeadline(
  tx: Queryable,
  now: Date,
): Promise<{ orderId: string; kind: DeadlineKind } | undefined> {
  const res = await tx.query<{ order_id: string; kind: DeadlineKind }>(
    `SELECT order_id::text AS order_id, kind FROM saga_deadlines WHERE due_at <= $1
      ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [now],
  );
  const r = res.rows[0];
  return r ? { orderId: r.order_id, kind: r.kind } : undefined;
}
