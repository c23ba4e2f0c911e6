/** Reads of the sales analytics projection (adapters/projections.ts writes it). */
import type { Queryable } from '@commerce/kernel';
import type { SalesBucket } from '../application/projections.js';

export interface AnalyticsReport {
  /** The rows the projection's fold adds up (application/projections.ts), as stored. */
  sales: SalesBucket[];
  outcomes: Record<string, number>;
  /** Per hour of the final event: orders per latency bucket (leMs −1 = above the last bound). */
  latency: { hour: string; leMs: number; orders: number }[];
  topProducts: { productId: string; currency: string; units: number; revenue: number }[];
  compensations: { kind: string; reason: string; orders: number }[];
}

/** The analytics since `since` (sales and latency buckets; outcomes, products and compensations are totals). */
export async function analyticsReport(
  db: Queryable,
  o: { period: 'hour' | 'day'; since: Date; topProducts?: number },
): Promise<AnalyticsReport> {
  const sales = await db.query<{
    bucket: Date | string;
    currency: string;
    orders_placed: string | number;
    amount_placed: string | number;
    orders_completed: string | number;
    revenue: string | number;
  }>(
    `SELECT bucket, currency, orders_placed, amount_placed, orders_completed, revenue FROM analytics_sales
      WHERE period = $1 AND bucket >= $2 ORDER BY bucket, currency`,
    [o.period, o.since],
  );
  const outcomes = await db.query<{ status: string; orders: string | number }>(
    'SELECT status, orders FROM analytics_outcomes ORDER BY status',
  );
  const latency = await db.query<{ hour: Date | string; le_ms: number; orders: string | number }>(
    'SELECT hour, le_ms, orders FROM analytics_latency WHERE hour >= $1 ORDER BY hour, le_ms',
    [o.since],
  );
  const products = await db.query<{
    product_id: string;
    currency: string;
    units: string | number;
    revenue: string | number;
  }>('SELECT product_id, currency, units, revenue FROM analytics_products ORDER BY units DESC, product_id LIMIT $1', [
    o.topProducts ?? 10,
  ]);
  const compensations = await db.query<{ kind: string; reason: string; orders: string | number }>(
    'SELECT kind, reason, orders FROM analytics_compensations ORDER BY kind, orders DESC, reason',
  );
  const iso = (v: Date | string) => new Date(v).toISOString();
  return {
    sales: sales.rows.map((r) => ({
      period: o.period,
      bucket: iso(r.bucket),
      currency: r.currency,
      ordersPlaced: Number(r.orders_placed),
      amountPlaced: Number(r.amount_placed),
      ordersCompleted: Number(r.orders_completed),
      revenue: Number(r.revenue),
    })),
    outcomes: Object.fromEntries(outcomes.rows.map((r) => [r.status, Number(r.orders)])),
    latency: latency.rows.map((r) => ({ hour: iso(r.hour), leMs: Number(r.le_ms), orders: Number(r.orders) })),
    topProducts: products.rows.map((r) => ({
      productId: r.product_id,
      currency: r.currency,
      units: Number(r.units),
      revenue: Number(r.revenue),
    })),
    compensations: compensations.rows.map((r) => ({ kind: r.kind, reason: r.reason, orders: Number(r.orders) })),
  };
}
