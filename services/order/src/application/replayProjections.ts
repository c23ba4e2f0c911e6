import type { Database } from '@commerce/kernel';
import { projectOrder } from '../adapters/readModel.js';
import { loadOrder } from './orderChanges.js';

/**
 * Rebuilds the `orders` read model from the event store (`commerce replay projections`): every
 * order stream is folded again and its row rewritten. Returns how many orders were rebuilt.
 */
export async function rebuildOrderProjections(db: Database): Promise<number> {
  const streams = await db.query<{ stream_id: string }>(
    "SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'order-%' ORDER BY stream_id",
  );
  let n = 0;
  for (const { stream_id } of streams.rows) {
    const orderId = stream_id.slice('order-'.length);
    await db.transaction(async (tx) => {
      const state = await loadOrder(tx, orderId);
      // Force the rewrite: the row may be ahead, behind or missing.
      await tx.query('DELETE FROM orders WHERE order_id = $1', [orderId]);
      await projectOrder(tx, orderId, state);
    });
    n++;
  }
  return n;
}
