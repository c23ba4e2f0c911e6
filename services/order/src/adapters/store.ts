/** The order service's storage on PostgreSQL and PGlite: the event stream, the read model and the saga deadlines. */
import {
  type Database,
  type Projection,
  type Queryable,
  readArchivedStream,
  readStream,
  rebuildProjection,
  type StoredEvent,
  type Write,
} from '@commerce/kernel';
import { upcastOrderEvent } from '../application/eventVersions.js';
import type { OrderView } from '../application/orderView.js';
import type { DeadlineKind, DueDeadline, OrderStore } from '../application/ports.js';
import { streamIdOf } from '../application/ports.js';
import { orderIdOfStream } from '../application/projections.js';
import {
  fold,
  inventoryStatusOf,
  ORDER_STATUSES,
  type OrderState,
  type OrderStatus,
  type OrderStreamEvent,
  paymentStatusOf,
} from '../domain/index.js';

/**
 * An order's events, oldest first, in their current shape (application/eventVersions.ts), from the archive when the
 * order was archived (`commerce archive` moves a stream out whole).
 */
export async function readOrderStream(reader: Queryable, orderId: string): Promise<StoredEvent[]> {
  const hot = await readStream(reader, streamIdOf(orderId));
  const stored = hot.length > 0 ? hot : await readArchivedStream(reader, streamIdOf(orderId));
  return stored.map((e) => upcastOrderEvent(e));
}

async function loadOrder(reader: Queryable, orderId: string): Promise<OrderState> {
  const stored = await readOrderStream(reader, orderId);
  return fold(stored.map((e) => ({ type: e.eventType, data: e.data, occurredAt: e.occurredAt }) as OrderStreamEvent));
}

export const orderStore: OrderStore = {
  loadOrder,

  async claimDueDeadline(reader, now): Promise<DueDeadline | undefined> {
    const res = await reader.query<{ order_id: string; kind: DeadlineKind }>(
      `SELECT order_id::text AS order_id, kind FROM saga_deadlines WHERE due_at <= $1
        ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [now],
    );
    const r = res.rows[0];
    return r ? { orderId: r.order_id, kind: r.kind } : undefined;
  },

  projectOrder(orderId, s): Write {
    if (s.status === null || s.createdAt === null) throw new Error(`order ${orderId} has no state to project`);
    return {
      sql: `INSERT INTO orders (order_id, customer_id, status, currency, items, total_amount, inventory_status,
                                payment_status, reasons, version, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9::jsonb, $10, $11, $12)
            ON CONFLICT (order_id) DO UPDATE SET
              status = EXCLUDED.status, inventory_status = EXCLUDED.inventory_status,
              payment_status = EXCLUDED.payment_status, reasons = EXCLUDED.reasons, version = EXCLUDED.version,
              updated_at = EXCLUDED.updated_at
            WHERE orders.version < EXCLUDED.version`,
      params: [
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
    };
  },

  setDeadline(orderId, kind, dueAt): Write {
    return {
      sql: `INSERT INTO saga_deadlines (order_id, kind, due_at) VALUES ($1, $2, $3)
            ON CONFLICT (order_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at`,
      params: [orderId, kind, dueAt],
    };
  },

  clearDeadline(orderId, kind): Write {
    return { sql: 'DELETE FROM saga_deadlines WHERE order_id = $1 AND kind = $2', params: [orderId, kind] };
  },
};

// ---- reads of the read model (the HTTP routes, the operator console) ----

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

/** Orders per status: every status of the domain, in ORDER_STATUSES order, 0 where there is none. */
export async function countOrdersByStatus(db: Queryable): Promise<Record<OrderStatus, number>> {
  const res = await db.query<{ status: OrderStatus; n: string | number }>(
    'SELECT status, count(*) AS n FROM orders GROUP BY status',
  );
  const counts = new Map(res.rows.map((r) => [r.status, Number(r.n)]));
  return Object.fromEntries(ORDER_STATUSES.map((s) => [s, counts.get(s) ?? 0])) as Record<OrderStatus, number>;
}

// ---- reads for the operator surface (apps/platform: console feed, console, audit) ----

/** Orders whose last change is after `since`, oldest change first: what the console's live feed polls. */
export async function listOrdersChangedSince(db: Queryable, since: Date, limit: number): Promise<OrderView[]> {
  const res = await db.query<OrderRow>(
    `SELECT ${COLUMNS} FROM orders WHERE updated_at > $1 ORDER BY updated_at, order_id LIMIT $2`,
    [since, limit],
  );
  return res.rows.map(toView);
}

/** The most recently changed orders, newest first. */
export async function recentOrders(db: Queryable, limit: number): Promise<OrderView[]> {
  const res = await db.query<OrderRow>(
    `SELECT ${COLUMNS} FROM orders ORDER BY updated_at DESC, order_id DESC LIMIT $1`,
    [limit],
  );
  return res.rows.map(toView);
}

/** When the newest change of the read model was decided; undefined when there is no order. */
export async function lastOrderChangeAt(db: Queryable): Promise<Date | undefined> {
  const res = await db.query<{ at: Date | string | null }>('SELECT max(updated_at) AS at FROM orders');
  const at = res.rows[0]?.at;
  return at ? new Date(at) : undefined;
}

/** Orders created in each whole second (seconds since the epoch) from `since` on; seconds without any are absent. */
export async function ordersPerSecondSince(db: Queryable, since: Date): Promise<Map<number, number>> {
  const res = await db.query<{ s: string | number; n: string | number }>(
    `SELECT floor(extract(epoch FROM created_at)) AS s, count(*) AS n FROM orders WHERE created_at > $1 GROUP BY 1`,
    [since],
  );
  return new Map(res.rows.map((r) => [Number(r.s), Number(r.n)]));
}

/** Customers who placed orders, the most recent first (payment keeps no customer list of its own to browse). */
export async function recentCustomers(db: Queryable, limit: number): Promise<string[]> {
  const res = await db.query<{ customer_id: string }>(
    'SELECT customer_id FROM orders GROUP BY customer_id ORDER BY max(created_at) DESC LIMIT $1',
    [limit],
  );
  return res.rows.map((r) => r.customer_id);
}

/** An order's event stream, oldest first, with each event's metadata (the console's timeline). */
export function readOrderEvents(db: Queryable, orderId: string): Promise<StoredEvent[]> {
  return readOrderStream(db, orderId);
}

/** What the audit of SPEC §9 reads of the order service. */
export interface OrderAuditFacts {
  /** Every order, oldest first. */
  orders: OrderView[];
  /** Streams holding one of the once-only order events more than once. */
  repeatedEvents: { streamId: string; eventType: string; count: number }[];
  /** Streams whose number of events is not their last version. */
  versionGaps: { streamId: string; count: number; lastVersion: number }[];
}

/** Read inside the caller's snapshot (one repeatable-read transaction), so the three parts agree. */
export async function auditOrders(snapshot: Queryable): Promise<OrderAuditFacts> {
  const orders = await snapshot.query<OrderRow>(`SELECT ${COLUMNS} FROM orders ORDER BY created_at`);
  const repeated = await snapshot.query<{ stream_id: string; event_type: string; n: number }>(
    `SELECT stream_id, event_type, count(*)::int AS n
       FROM (SELECT stream_id, event_type FROM events UNION ALL SELECT stream_id, event_type FROM events_archive) AS e
      WHERE event_type IN ('ORDER_CREATED', 'ORDER_CONFIRMED', 'ORDER_COMPLETED', 'ORDER_CANCELLED', 'ORDER_COMPENSATED')
      GROUP BY stream_id, event_type HAVING count(*) > 1`,
  );
  const gaps = await snapshot.query<{ stream_id: string; n: number; top: number }>(
    `SELECT stream_id, count(*)::int AS n, max(version)::int AS top
       FROM (SELECT stream_id, version FROM events UNION ALL SELECT stream_id, version FROM events_archive) AS e
      GROUP BY stream_id HAVING count(*) <> max(version)`,
  );
  return {
    orders: orders.rows.map(toView),
    repeatedEvents: repeated.rows.map((r) => ({ streamId: r.stream_id, eventType: r.event_type, count: Number(r.n) })),
    versionGaps: gaps.rows.map((r) => ({ streamId: r.stream_id, count: Number(r.n), lastVersion: Number(r.top) })),
  };
}

/**
 * The `orders` read model as a projection (kernel projections.ts). Every change writes it inline (projectOrder, in the
 * transaction that appends the events, so that reads follow writes); it is rebuilt by the same machinery as the
 * projections on subscriptions (`commerce projections rebuild orders`, `commerce replay projections`). Each batch's
 * orders are folded again from their whole streams (archive included) and upserted by version: applying an event
 * twice, or after a later one, changes nothing.
 */
export const ordersProjection: Projection = {
  name: 'orders',
  tables: ['orders'],
  inline: true,
  subscription: {
    onFailure: 'stop',
    async handle(events, tx) {
      const ids = [...new Set(events.map((e) => orderIdOfStream(e.streamId)))].filter((id) => id !== undefined);
      for (const orderId of ids) {
        const state = await loadOrder(tx, orderId);
        if (state.status === null) continue;
        const row = orderStore.projectOrder(orderId, state);
        await tx.query(row.sql, row.params);
      }
      // Orders whose streams `commerce archive` moved out keep their mark (archive.ts sets it with the move).
      await tx.query(
        `UPDATE orders AS o SET archived_at = a.at
           FROM (SELECT stream_id, min(archived_at) AS at FROM events_archive WHERE stream_id = ANY($1::text[])
                  GROUP BY stream_id) AS a
          WHERE 'order-' || o.order_id::text = a.stream_id AND o.archived_at IS NULL`,
        [ids.map((id) => streamIdOf(id))],
      );
    },
  },
};

/**
 * Rebuilds the `orders` read model from the event store into a shadow table while it keeps serving, then swaps
 * (`ordersProjection`). Answers how many orders the rebuilt read model holds.
 */
export async function rebuildOrderProjections(db: Database): Promise<number> {
  await rebuildProjection(db, ordersProjection);
  const res = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
  return res.rows[0]?.n ?? 0;
}
