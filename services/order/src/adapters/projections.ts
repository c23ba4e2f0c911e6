/**
 * The order service's projections on subscriptions to its event store (kernel subscription.ts, projections.ts): the
 * SQL that writes what the folds of application/projections.ts answer, and the reads that serve them. Tables are
 * named bare: a rebuild runs the same statements against its shadow schema.
 */
import type { Projection, Queryable, StoredEvent } from '@commerce/kernel';
import { upcastOrderEvent } from '../application/eventVersions.js';
import {
  type CustomerOrderRow,
  foldAnalytics,
  foldCustomerHistory,
  ORDER_STATUS_EVENTS,
  type OrderFacts,
  orderIdOfStream,
  type ProjectedEvent,
} from '../application/projections.js';
import { FINAL_STATUSES, type OrderStatus } from '../domain/index.js';
import { ordersProjection } from './store.js';

const projected = (events: readonly StoredEvent[]): ProjectedEvent[] =>
  events.map((e) => ({ eventType: e.eventType, streamId: e.streamId, data: e.data, occurredAt: e.occurredAt }));

const json = (v: unknown) => JSON.stringify(v);

async function writeCustomerHistory(events: readonly StoredEvent[], tx: Queryable): Promise<void> {
  const c = foldCustomerHistory(projected(events));
  if (c.created.length > 0)
    await tx.query(
      `INSERT INTO customer_orders (order_id, customer_id, currency, total_amount, status, created_at, updated_at)
       SELECT x."orderId", x."customerId", x.currency, x."totalAmount", x.status, x."createdAt", x."updatedAt"
         FROM jsonb_to_recordset($1::jsonb) AS x("orderId" uuid, "customerId" text, currency text, "totalAmount" bigint,
                                                 status text, "createdAt" timestamptz, "updatedAt" timestamptz)
       ON CONFLICT (order_id) DO NOTHING`,
      [json(c.created)],
    );
  if (c.statuses.length > 0)
    await tx.query(
      `UPDATE customer_orders AS o SET status = x.status, updated_at = x.at
         FROM jsonb_to_recordset($1::jsonb) AS x("orderId" uuid, status text, at timestamptz)
        WHERE o.order_id = x."orderId"`,
      [json(c.statuses)],
    );
}

async function knownFacts(tx: Queryable, events: readonly StoredEvent[]): Promise<Map<string, OrderFacts>> {
  const ids = [
    ...new Set(
      events
        .filter((e) => e.eventType !== 'ORDER_CREATED')
        .map((e) => orderIdOfStream(e.streamId))
        .filter((id): id is string => id !== undefined),
    ),
  ];
  if (ids.length === 0) return new Map();
  const res = await tx.query<{
    order_id: string;
    currency: string;
    total_amount: number | string;
    items: OrderFacts['items'];
    created_at: Date | string;
    final_status: OrderStatus | null;
  }>(
    `SELECT order_id::text AS order_id, currency, total_amount, items, created_at, final_status
       FROM analytics_orders WHERE order_id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(
    res.rows.map((r) => [
      r.order_id,
      {
        orderId: r.order_id,
        currency: r.currency,
        totalAmount: Number(r.total_amount),
        items: r.items,
        createdAt: new Date(r.created_at).toISOString(),
        finalStatus: r.final_status,
      },
    ]),
  );
}

async function writeAnalytics(events: readonly StoredEvent[], tx: Queryable): Promise<void> {
  const c = foldAnalytics(projected(events), await knownFacts(tx, events));
  const statements: [string, unknown[]][] = [];
  if (c.facts.length > 0)
    statements.push([
      `INSERT INTO analytics_orders AS t (order_id, currency, total_amount, items, created_at, final_status)
       SELECT x."orderId", x.currency, x."totalAmount", x.items, x."createdAt", x."finalStatus"
         FROM jsonb_to_recordset($1::jsonb) AS x("orderId" uuid, currency text, "totalAmount" bigint, items jsonb,
                                                 "createdAt" timestamptz, "finalStatus" text)
       ON CONFLICT (order_id) DO UPDATE SET final_status = EXCLUDED.final_status`,
      [json(c.facts)],
    ]);
  if (c.sales.length > 0)
    statements.push([
      `INSERT INTO analytics_sales AS t (period, bucket, currency, orders_placed, amount_placed, orders_completed, revenue)
       SELECT x.period, x.bucket, x.currency, x."ordersPlaced", x."amountPlaced", x."ordersCompleted", x.revenue
         FROM jsonb_to_recordset($1::jsonb) AS x(period text, bucket timestamptz, currency text, "ordersPlaced" bigint,
                                                 "amountPlaced" bigint, "ordersCompleted" bigint, revenue bigint)
       ON CONFLICT (period, bucket, currency) DO UPDATE SET
         orders_placed = t.orders_placed + EXCLUDED.orders_placed, amount_placed = t.amount_placed + EXCLUDED.amount_placed,
         orders_completed = t.orders_completed + EXCLUDED.orders_completed, revenue = t.revenue + EXCLUDED.revenue`,
      [json(c.sales)],
    ]);
  if (c.outcomes.length > 0)
    statements.push([
      `INSERT INTO analytics_outcomes AS t (status, orders)
       SELECT x.status, x.delta FROM jsonb_to_recordset($1::jsonb) AS x(status text, delta bigint)
       ON CONFLICT (status) DO UPDATE SET orders = t.orders + EXCLUDED.orders`,
      [json(c.outcomes)],
    ]);
  if (c.latency.length > 0)
    statements.push([
      `INSERT INTO analytics_latency AS t (hour, le_ms, orders)
       SELECT x.hour, x.le, x.count FROM jsonb_to_recordset($1::jsonb) AS x(hour timestamptz, le integer, count bigint)
       ON CONFLICT (hour, le_ms) DO UPDATE SET orders = t.orders + EXCLUDED.orders`,
      [json(c.latency)],
    ]);
  if (c.products.length > 0)
    statements.push([
      `INSERT INTO analytics_products AS t (product_id, currency, units, revenue)
       SELECT x."productId", x.currency, x.units, x.revenue
         FROM jsonb_to_recordset($1::jsonb) AS x("productId" text, currency text, units bigint, revenue bigint)
       ON CONFLICT (product_id, currency) DO UPDATE SET units = t.units + EXCLUDED.units, revenue = t.revenue + EXCLUDED.revenue`,
      [json(c.products)],
    ]);
  if (c.compensations.length > 0)
    statements.push([
      `INSERT INTO analytics_compensations AS t (kind, reason, orders)
       SELECT x.kind, x.reason, x.count FROM jsonb_to_recordset($1::jsonb) AS x(kind text, reason text, count bigint)
       ON CONFLICT (kind, reason) DO UPDATE SET orders = t.orders + EXCLUDED.orders`,
      [json(c.compensations)],
    ]);
  for (const [sql, params] of statements) await tx.query(sql, params);
}

/** Per customer: counts, spend per currency, last order (GET /customers/{id}/order-summary). */
export const customerHistoryProjection: Projection = {
  name: 'customer_history',
  tables: ['customer_orders'],
  subscription: {
    eventTypes: ORDER_STATUS_EVENTS,
    onFailure: 'park',
    handle: writeCustomerHistory,
    upcast: upcastOrderEvent,
  },
};

/** Sales analytics: orders and revenue per currency per hour and day, outcomes, latency, products, compensations. */
export const analyticsProjection: Projection = {
  name: 'analytics',
  tables: [
    'analytics_orders',
    'analytics_sales',
    'analytics_outcomes',
    'analytics_latency',
    'analytics_products',
    'analytics_compensations',
  ],
  // Stops rather than parks: an event it cannot fold would leave every later figure wrong without saying so.
  subscription: {
    eventTypes: ORDER_STATUS_EVENTS,
    onFailure: 'stop',
    handle: writeAnalytics,
    upcast: upcastOrderEvent,
  },
};

/** Every projection of the order service; `orders` is written inline (store.ts), the others by live subscriptions. */
export const ORDER_PROJECTIONS: readonly Projection[] = [
  ordersProjection,
  customerHistoryProjection,
  analyticsProjection,
];

export interface CustomerOrderSummary {
  customerId: string;
  orders: { total: number; open: number; completed: number; cancelled: number };
  /** Per currency: orders placed, amount placed, amount of completed orders (spent), in minor units. */
  spend: { currency: string; orders: number; placed: number; spent: number }[];
  lastOrder: Pick<CustomerOrderRow, 'orderId' | 'status' | 'currency' | 'totalAmount' | 'createdAt'> | null;
}

const FINAL = [...FINAL_STATUSES];

export async function customerOrderSummary(db: Queryable, customerId: string): Promise<CustomerOrderSummary> {
  const counts = await db.query<{ total: number; open: number; completed: number; cancelled: number }>(
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE NOT status = ANY($2::text[]))::int AS open,
            count(*) FILTER (WHERE status = 'COMPLETED')::int AS completed,
            count(*) FILTER (WHERE status = ANY($2::text[]) AND status <> 'COMPLETED')::int AS cancelled
       FROM customer_orders WHERE customer_id = $1`,
    [customerId, FINAL],
  );
  const spend = await db.query<{ currency: string; orders: number; placed: number | string; spent: number | string }>(
    `SELECT currency, count(*)::int AS orders, sum(total_amount) AS placed,
            coalesce(sum(total_amount) FILTER (WHERE status = 'COMPLETED'), 0) AS spent
       FROM customer_orders WHERE customer_id = $1 GROUP BY currency ORDER BY currency`,
    [customerId],
  );
  const last = await db.query<{
    order_id: string;
    status: OrderStatus;
    currency: string;
    total_amount: number | string;
    created_at: Date | string;
  }>(
    `SELECT order_id::text AS order_id, status, currency, total_amount, created_at FROM customer_orders
      WHERE customer_id = $1 ORDER BY created_at DESC, order_id DESC LIMIT 1`,
    [customerId],
  );
  const l = last.rows[0];
  return {
    customerId,
    orders: counts.rows[0] ?? { total: 0, open: 0, completed: 0, cancelled: 0 },
    spend: spend.rows.map((s) => ({
      currency: s.currency,
      orders: s.orders,
      placed: Number(s.placed),
      spent: Number(s.spent),
    })),
    lastOrder: l
      ? {
          orderId: l.order_id,
          status: l.status,
          currency: l.currency,
          totalAmount: Number(l.total_amount),
          createdAt: new Date(l.created_at).toISOString(),
        }
      : null,
  };
}
