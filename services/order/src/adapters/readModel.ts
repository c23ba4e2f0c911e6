import type { Queryable } from '@commerce/kernel';
import { inventoryStatusOf, type OrderState, type OrderStatus, paymentStatusOf } from '../domain/index.js';

/** What the API answers for an order (SPEC §4). */
export interface OrderView {
  orderId: string;
  customerId: string;
  status: OrderStatus;
  currency: string;
  items: { productId: string; quantity: number; unitPrice: number }[];
  totalAmount: number;
  createdAt: string;
  updatedAt: string;
  version: number;
  inventory: { status: string };
  payment: { status: string };
  reasons: string[];
}

interface OrderRow {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  currency: string;
  items: OrderView['items'];
  total_amount: string | number;
  inventory_status: string;
  payment_status: string;
  reasons: string[];
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();

function toView(r: OrderRow): OrderView {
  return {
    orderId: r.order_id,
    customerId: r.customer_id,
    status: r.status,
    currency: r.currency,
    items: r.items,
    totalAmount: Number(r.total_amount),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    version: Number(r.version),
    inventory: { status: r.inventory_status },
    payment: { status: r.payment_status },
    reasons: r.reasons,
  };
}

const COLUMNS = `order_id::text AS order_id, customer_id, status, currency, items, total_amount, inventory_status,
  payment_status, reasons, version, created_at, updated_at`;

/** The API view of a folded state: exactly what projectOrder writes and findOrder reads back. */
export function viewOf(orderId: string, s: OrderState): OrderView | undefined {
  if (s.status === null || s.createdAt === null || s.customerId === null || s.currency === null) return undefined;
  return toView({
    order_id: orderId,
    customer_id: s.customerId,
    status: s.status,
    currency: s.currency,
    items: s.items,
    total_amount: s.totalAmount,
    inventory_status: inventoryStatusOf(s),
    payment_status: paymentStatusOf(s),
    reasons: s.reasons,
    version: s.version,
    created_at: s.createdAt,
    updated_at: s.updatedAt ?? s.createdAt,
  });
}

/** Writes the order's row from its folded state; never moves a row back to an older version. */
export async function projectOrder(tx: Queryable, orderId: string, s: OrderState): Promise<void> {
  if (s.status === null || s.createdAt === null) return;
  await tx.query(
    `INSERT INTO orders (order_id, customer_id, status, currency, items, total_amount, inventory_status,
                         payment_status, reasons, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9::jsonb, $10, $11, $12)
     ON CONFLICT (order_id) DO UPDATE SET
       status = EXCLUDED.status, inventory_status = EXCLUDED.inventory_status,
       payment_status = EXCLUDED.payment_status, reasons = EXCLUDED.reasons, version = EXCLUDED.version,
       updated_at = EXCLUDED.updated_at
     WHERE orders.version < EXCLUDED.version`,
    [
      orderId,
      s.customerId,
      s.status,
      s.currency,
      JSON.stringify(s.items),
      s.totalAmount,
      inventoryStatusOf(s),
      paymentStatusOf(s),
      JSON.stringify(s.reasons),
      s.version,
      s.createdAt,
      s.updatedAt ?? s.createdAt,
    ],
  );
}

export async function findOrder(db: Queryable, orderId: string): Promise<OrderView | undefined> {
  const res = await db.query<OrderRow>(`SELECT ${COLUMNS} FROM orders WHERE order_id = $1`, [orderId]);
  return res.rows[0] ? toView(res.rows[0]) : undefined;
}

export interface OrderListQuery {
  customerId?: string;
  status?: OrderStatus;
  limit: number;
  /** Keyset position: the last order of the previous page. */
  after?: { createdAt: string; orderId: string };
}

/** Newest first; one row more than asked tells whether there is a next page. */
export async function listOrders(db: Queryable, q: OrderListQuery): Promise<{ items: OrderView[]; more: boolean }> {
  const where: string[] = [];
  const params: unknown[] = [];
  // Only placeholders are built here; every value travels as a parameter.
  if (q.customerId !== undefined) {
    params.push(q.customerId);
    where.push(`customer_id = $${params.length}`);
  }
  if (q.status !== undefined) {
    params.push(q.status);
    where.push(`status = $${params.length}`);
  }
  if (q.after) {
    params.push(q.after.createdAt, q.after.orderId);
    where.push(`(created_at, order_id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(q.limit + 1);
  const res = await db.query<OrderRow>(
    `SELECT ${COLUMNS} FROM orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, order_id DESC LIMIT $${params.length}`,
    params,
  );
  return { items: res.rows.slice(0, q.limit).map(toView), more: res.rows.length > q.limit };
}

export async function countOrdersByStatus(db: Queryable): Promise<Record<string, number>> {
  const res = await db.query<{ status: string; n: string | number }>(
    'SELECT status, count(*) AS n FROM orders GROUP BY status',
  );
  return Object.fromEntries(res.rows.map((r) => [r.status, Number(r.n)]));
}
