/**
 * The inventory service's storage on PostgreSQL and PGlite: products, reservations and stock movements (the rollback
 * markers are the kernel's). The store port's loads and writes, and the read queries the HTTP routes answer with.
 */
import {
  allInOrder,
  lockOrderForParticipant,
  type Queryable,
  rollbackMarkerAt,
  tryLockOrdersForParticipant,
  type Write,
} from '@commerce/kernel';
import type { DueReservation, InventoryStore } from '../application/ports.js';
import type { Product } from '../domain/product.js';
import type { OrderLine, ProductStock, Reservation } from '../domain/reservation.js';
import type { ReturnRestock } from '../domain/returnRestock.js';

/** The participant name of inventory's per-order lock. */
const PARTICIPANT = 'inventory';

const PRODUCT_COLUMNS = 'product_id, name, unit_price, currency, available, reserved, sold';

interface ProductRow {
  product_id: string;
  name: string;
  unit_price: number;
  currency: string;
  available: number;
  reserved: number;
  sold: number;
}

// bigint columns arrive as strings on pg.
const productOf = (r: ProductRow): Product => ({
  productId: r.product_id,
  name: r.name,
  unitPrice: Number(r.unit_price),
  currency: r.currency,
  available: Number(r.available),
  reserved: Number(r.reserved),
  sold: Number(r.sold),
});

interface ReservationRow {
  status: Reservation['status'];
  lines: OrderLine[];
  expires_at: Date;
}

const reservationOf = (r: ReservationRow): Reservation => ({
  status: r.status,
  lines: r.lines,
  expiresAt: new Date(r.expires_at),
});

/**
 * Locks the named products, in productId order so that two orders sharing products never deadlock (SELECT … FOR
 * UPDATE locks rows in the order the sorted scan returns them).
 */
async function lockProducts(reader: Queryable, productIds: readonly string[]): Promise<Map<string, ProductStock>> {
  if (productIds.length === 0) return new Map();
  const ids = [...new Set(productIds)].sort();
  const res = await reader.query<ProductRow>(
    `SELECT ${PRODUCT_COLUMNS} FROM products WHERE product_id = ANY($1::text[]) ORDER BY product_id FOR UPDATE`,
    [ids],
  );
  return new Map(res.rows.map((r) => [r.product_id, productOf(r)]));
}

async function lockProduct(reader: Queryable, productId: string): Promise<Product | undefined> {
  const res = await reader.query<ProductRow>(
    `SELECT ${PRODUCT_COLUMNS} FROM products WHERE product_id = $1 FOR UPDATE`,
    [productId],
  );
  return res.rows[0] ? productOf(res.rows[0]) : undefined;
}

export const inventoryStore: InventoryStore = {
  async loadOrder(reader, orderId, productIds) {
    // Issued together, run in this order: the order's lock (and its rollback marker), then its reservation, then the
    // products. Products are locked even when the reservation turns out to exist already (a late duplicate):
    // harmless, and rare.
    const [{ rollbackCameFirst }, found, products] = await allInOrder([
      lockOrderForParticipant(reader, PARTICIPANT, orderId),
      reader.query<ReservationRow>(
        'SELECT status, lines, expires_at FROM reservations WHERE order_id = $1 FOR UPDATE',
        [orderId],
      ),
      lockProducts(reader, productIds),
    ] as const);
    const row = found.rows[0];
    return { reservation: row ? reservationOf(row) : null, rollbackMarker: rollbackCameFirst, products };
  },

  async claimDueReservations(reader, now, limit) {
    // Lock order, so that a sweep never deadlocks with a consumer: reservation rows (SKIP LOCKED: never waits), then
    // the orders' locks (tried: an order a consumer is handling right now is left for the next sweep), then every
    // product of the sweep at once, in productId order like a reservation.
    const due = await reader.query<ReservationRow & { order_id: string; rollback_marker: boolean }>(
      `SELECT r.order_id, r.status, r.lines, r.expires_at, m.order_id IS NOT NULL AS rollback_marker
         FROM reservations r LEFT JOIN rollback_markers m ON m.order_id = r.order_id
        WHERE r.status = 'RESERVED' AND r.expires_at <= $1
        ORDER BY r.expires_at, r.order_id
        LIMIT $2
        FOR UPDATE OF r SKIP LOCKED`,
      [now, limit],
    );
    const locked = await tryLockOrdersForParticipant(
      reader,
      PARTICIPANT,
      due.rows.map((r) => r.order_id),
    );
    const mine = due.rows.filter((r) => locked.has(r.order_id));
    const products = await lockProducts(
      reader,
      mine.flatMap((r) => r.lines.map((l) => l.productId)),
    );
    const claimed: DueReservation[] = mine.map((r) => ({
      orderId: r.order_id,
      state: { reservation: reservationOf(r), rollbackMarker: r.rollback_marker, products },
    }));
    return { due: claimed, full: due.rows.length === limit };
  },

  lockProduct,

  async lockProductForPut(reader, put, at) {
    // A concurrent first PUT of the same product waits on this insert, then locks the row it made.
    const [, product] = await allInOrder([
      reader.query(
        `INSERT INTO products (product_id, name, unit_price, currency, available, reserved, sold, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 0, 0, 0, $5, $5) ON CONFLICT (product_id) DO NOTHING`,
        [put.productId, put.name, put.unitPrice, put.currency, at],
      ),
      lockProduct(reader, put.productId),
    ] as const);
    if (!product) throw new Error(`product ${put.productId} was neither found nor made`);
    return product;
  },

  async loadReturn(reader, orderId, productIds) {
    const [, found, restocks, products] = await allInOrder([
      lockOrderForParticipant(reader, PARTICIPANT, orderId),
      reader.query<ReservationRow>(
        'SELECT status, lines, expires_at FROM reservations WHERE order_id = $1 FOR UPDATE',
        [orderId],
      ),
      reader.query<{
        return_id: string;
        status: ReturnRestock['status'];
        items: OrderLine[];
        reason: string | null;
        product_ids: string[];
      }>(
        'SELECT return_id::text AS return_id, status, items, reason, product_ids FROM return_restocks WHERE order_id = $1',
        [orderId],
      ),
      lockProducts(reader, productIds),
    ] as const);
    const row = found.rows[0];
    return {
      reservation: row ? reservationOf(row) : null,
      restocks: new Map(
        restocks.rows.map((r) => [
          r.return_id,
          { status: r.status, items: r.items, reason: r.reason as ReturnRestock['reason'], productIds: r.product_ids },
        ]),
      ),
      products,
    };
  },

  saveReturnRestock(orderId, returnId, r, at) {
    return {
      sql: `INSERT INTO return_restocks (order_id, return_id, status, items, reason, product_ids, created_at)
            VALUES ($1, $2, $3, $4::jsonb, $5, $6::text[], $7)`,
      params: [orderId, returnId, r.status, JSON.stringify(r.items), r.reason, r.productIds, at],
    };
  },

  changeStock(changes, orderId, at, returnId) {
    if (changes.length === 0) return [];
    // Products in productId order: the order every other transaction locks them in (a change that did not lock them
    // before deciding takes their row locks here).
    const updates: Write[] = [...changes]
      .sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0))
      .map((c) => ({
        sql: `UPDATE products SET available = available + $2, reserved = reserved + $3, sold = sold + $4,
                     version = version + 1, updated_at = $5
               WHERE product_id = $1`,
        params: [c.productId, c.deltaAvailable, c.deltaReserved, c.deltaSold, at],
      }));
    const movements: Write = {
      sql: `INSERT INTO stock_movements (product_id, order_id, kind, delta_available, delta_reserved, delta_sold, at, return_id)
            SELECT c.product_id, $1::uuid, c.kind, c.da, c.dr, c.ds, $2, $8::uuid
              FROM unnest($3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
                   WITH ORDINALITY AS c(product_id, kind, da, dr, ds, ord)
             ORDER BY c.ord`,
      params: [
        orderId,
        at,
        changes.map((c) => c.productId),
        changes.map((c) => c.kind),
        changes.map((c) => c.deltaAvailable),
        changes.map((c) => c.deltaReserved),
        changes.map((c) => c.deltaSold),
        returnId ?? null,
      ],
    };
    return [...updates, movements];
  },

  saveReservation(orderId, r, at) {
    return {
      sql: `INSERT INTO reservations (order_id, status, lines, expires_at, created_at, updated_at)
            VALUES ($1, $2, $3::jsonb, $4, $5, $5)
            ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, expires_at = EXCLUDED.expires_at,
              updated_at = EXCLUDED.updated_at`,
      params: [orderId, r.status, JSON.stringify(r.lines), r.expiresAt, at],
    };
  },

  saveProductDetails(p, at) {
    return {
      sql: 'UPDATE products SET name = $2, unit_price = $3, currency = $4, updated_at = $5 WHERE product_id = $1',
      params: [p.productId, p.name, p.unitPrice, p.currency, at],
    };
  },
};

// The read queries of the HTTP routes (and of operators' tools): none locks.

/** A product as the API shows it (SPEC §4). */
export type ProductView = Product;

export async function readProduct(q: Queryable, productId: string): Promise<ProductView | undefined> {
  const res = await q.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products WHERE product_id = $1`, [productId]);
  return res.rows[0] ? productOf(res.rows[0]) : undefined;
}

/** Products by productId; `after` is the last productId of the previous page. */
export async function listProducts(
  q: Queryable,
  limit: number,
  after: string | undefined,
): Promise<{ items: ProductView[]; last?: string }> {
  const res = await q.query<ProductRow>(
    `SELECT ${PRODUCT_COLUMNS} FROM products WHERE ($1::text IS NULL OR product_id > $1) ORDER BY product_id LIMIT $2`,
    [after ?? null, limit + 1],
  );
  const items = res.rows.slice(0, limit).map(productOf);
  return { items, last: res.rows.length > limit ? items[items.length - 1]?.productId : undefined };
}

export interface StockMovementView {
  id: number;
  productId: string;
  orderId: string | null;
  kind: string;
  deltaAvailable: number;
  deltaReserved: number;
  deltaSold: number;
  at: string;
}

/** Stock movements, oldest first, filtered by product and/or order; `after` is the last id of the previous page. */
export async function listStockMovements(
  q: Queryable,
  f: { productId?: string; orderId?: string; limit: number; after?: number },
): Promise<{ items: StockMovementView[]; last?: number }> {
  const res = await q.query<{
    id: number;
    product_id: string;
    order_id: string | null;
    kind: string;
    delta_available: number;
    delta_reserved: number;
    delta_sold: number;
    at: Date;
  }>(
    `SELECT id, product_id, order_id, kind, delta_available, delta_reserved, delta_sold, at FROM stock_movements
      WHERE ($1::text IS NULL OR product_id = $1) AND ($2::uuid IS NULL OR order_id = $2)
        AND ($3::bigint IS NULL OR id > $3)
      ORDER BY id LIMIT $4`,
    [f.productId ?? null, f.orderId ?? null, f.after ?? null, f.limit + 1],
  );
  const items = res.rows.slice(0, f.limit).map((r) => ({
    id: Number(r.id),
    productId: r.product_id,
    orderId: r.order_id,
    kind: r.kind,
    deltaAvailable: Number(r.delta_available),
    deltaReserved: Number(r.delta_reserved),
    deltaSold: Number(r.delta_sold),
    at: new Date(r.at).toISOString(),
  }));
  return { items, last: res.rows.length > f.limit ? items[items.length - 1]?.id : undefined };
}

export interface ReservationView {
  orderId: string;
  status: string;
  lines: OrderLine[];
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  rollbackMarker: boolean;
}

/** The reservation of an order (or only its rollback marker); undefined when inventory knows nothing of it. */
export async function readReservation(q: Queryable, orderId: string): Promise<ReservationView | undefined> {
  const res = await q.query<ReservationRow & { created_at: Date; updated_at: Date }>(
    'SELECT status, lines, expires_at, created_at, updated_at FROM reservations WHERE order_id = $1',
    [orderId],
  );
  const markedAt = await rollbackMarkerAt(q, orderId);
  const r = res.rows[0];
  if (!r && !markedAt) return undefined;
  if (!r) {
    const at = markedAt!.toISOString();
    return { orderId, status: 'NONE', lines: [], expiresAt: at, createdAt: at, updatedAt: at, rollbackMarker: true };
  }
  return {
    orderId,
    status: r.status,
    lines: r.lines,
    expiresAt: new Date(r.expires_at).toISOString(),
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    rollbackMarker: markedAt !== undefined,
  };
}

/** What the audit of SPEC §9 reads of the inventory service. */
export interface StockAuditFacts {
  products: ProductView[];
  /** Per product, the sums of its movements' deltas: what its figures must be. */
  movementTotals: { productId: string; available: number; reserved: number; sold: number }[];
  reservations: { orderId: string; status: string; lines: OrderLine[] }[];
  /** The same kind of movement applied more than once for one order (and return) and product. */
  repeatedMovements: { orderId: string; productId: string; kind: string; count: number }[];
  /** Every return inventory answered (issue 21), restocked or refused. */
  returnRestocks: { orderId: string; returnId: string; status: ReturnRestock['status']; items: OrderLine[] }[];
}

/** Read inside the caller's snapshot (one repeatable-read transaction), so the parts agree. */
export async function auditStock(snapshot: Queryable): Promise<StockAuditFacts> {
  const products = await snapshot.query<ProductRow>(`SELECT ${PRODUCT_COLUMNS} FROM products`);
  const totals = await snapshot.query<{ product_id: string; a: number; r: number; s: number }>(
    `SELECT product_id, sum(delta_available)::bigint AS a, sum(delta_reserved)::bigint AS r, sum(delta_sold)::bigint AS s
       FROM stock_movements GROUP BY product_id`,
  );
  const reservations = await snapshot.query<{ order_id: string; status: string; lines: OrderLine[] }>(
    'SELECT order_id::text AS order_id, status, lines FROM reservations',
  );
  const repeated = await snapshot.query<{ order_id: string; product_id: string; kind: string; n: number }>(
    `SELECT order_id::text AS order_id, product_id, kind, count(*)::int AS n FROM stock_movements
      WHERE order_id IS NOT NULL GROUP BY order_id, return_id, product_id, kind HAVING count(*) > 1`,
  );
  const restocks = await snapshot.query<{
    order_id: string;
    return_id: string;
    status: ReturnRestock['status'];
    items: OrderLine[];
  }>('SELECT order_id::text AS order_id, return_id::text AS return_id, status, items FROM return_restocks');
  return {
    products: products.rows.map(productOf),
    movementTotals: totals.rows.map((t) => ({
      productId: t.product_id,
      available: Number(t.a),
      reserved: Number(t.r),
      sold: Number(t.s),
    })),
    reservations: reservations.rows.map((r) => ({ orderId: r.order_id, status: r.status, lines: r.lines })),
    repeatedMovements: repeated.rows.map((m) => ({
      orderId: m.order_id,
      productId: m.product_id,
      kind: m.kind,
      count: Number(m.n),
    })),
    returnRestocks: restocks.rows.map((r) => ({
      orderId: r.order_id,
      returnId: r.return_id,
      status: r.status,
      items: r.items,
    })),
  };
}
