import { applyOnce, type Database, type IdempotencyKeyClaim, type Idempotent, type Queryable } from '@commerce/kernel';
import { applyStockChanges, lockProducts } from './reserveStock.js';

export interface ProductView {
  productId: string;
  name: string;
  unitPrice: number;
  currency: string;
  available: number;
  reserved: number;
  sold: number;
}

export interface PutProduct {
  productId: string;
  name: string;
  unitPrice: number;
  currency: string;
  /** The on-hand stock available for sale after the call (reserved and sold are left as they are). */
  stock: number;
}

const COLUMNS = 'product_id, name, unit_price, currency, available, reserved, sold';
type ProductRow = {
  product_id: string;
  name: string;
  unit_price: number;
  currency: string;
  available: number;
  reserved: number;
  sold: number;
};
const view = (r: ProductRow): ProductView => ({
  productId: r.product_id,
  name: r.name,
  unitPrice: Number(r.unit_price),
  currency: r.currency,
  available: Number(r.available),
  reserved: Number(r.reserved),
  sold: Number(r.sold),
});

/** Creates or replaces a product; the change of `available` is recorded as a `set` movement in the same transaction. */
export async function putProduct(db: Database, now: Date, p: PutProduct): Promise<ProductView> {
  return db.transaction(async (tx) => {
    // A concurrent first PUT of the same product waits on this insert, then updates the row it made.
    await tx.query(
      `INSERT INTO products (product_id, name, unit_price, currency, available, reserved, sold, created_at, updated_at)
       VALUES ($1, $2, $3, $4, 0, 0, 0, $5, $5) ON CONFLICT (product_id) DO NOTHING`,
      [p.productId, p.name, p.unitPrice, p.currency, now],
    );
    const locked = (await lockProducts(tx, [p.productId])).get(p.productId);
    const delta = p.stock - (locked?.available ?? 0);
    await tx.query(
      'UPDATE products SET name = $2, unit_price = $3, currency = $4, updated_at = $5 WHERE product_id = $1',
      [p.productId, p.name, p.unitPrice, p.currency, now],
    );
    if (delta !== 0)
      await applyStockChanges(
        tx,
        [{ productId: p.productId, kind: 'set', deltaAvailable: delta, deltaReserved: 0, deltaSold: 0 }],
        null,
        now,
      );
    return (await readProduct(tx, p.productId))!;
  });
}

/** Refuses a restock of a product that does not exist (nothing is applied, no key is recorded). */
class UnknownProduct extends Error {}

/**
 * Adds stock (movement `restock`); undefined when the product does not exist. With an Idempotency-Key the restock is
 * applied once: a retry of the same request answers the first result again, another request with the key is refused.
 */
export async function restockProduct(
  db: Database,
  now: Date,
  productId: string,
  quantity: number,
  key?: IdempotencyKeyClaim,
): Promise<Idempotent<ProductView> | undefined> {
  try {
    return await applyOnce(db, key, now, async (tx) => {
      if (!(await lockProducts(tx, [productId])).has(productId)) throw new UnknownProduct();
      await applyStockChanges(
        tx,
        [{ productId, kind: 'restock', deltaAvailable: quantity, deltaReserved: 0, deltaSold: 0 }],
        null,
        now,
      );
      return (await readProduct(tx, productId))!;
    });
  } catch (err) {
    if (err instanceof UnknownProduct) return undefined;
    throw err;
  }
}

export async function readProduct(q: Queryable, productId: string): Promise<ProductView | undefined> {
  const res = await q.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE product_id = $1`, [productId]);
  return res.rows[0] ? view(res.rows[0]) : undefined;
}

/** Products by productId; `after` is the last productId of the previous page. */
export async function listProducts(
  q: Queryable,
  limit: number,
  after: string | undefined,
): Promise<{ items: ProductView[]; last?: string }> {
  const res = await q.query<ProductRow>(
    `SELECT ${COLUMNS} FROM products WHERE ($1::text IS NULL OR product_id > $1) ORDER BY product_id LIMIT $2`,
    [after ?? null, limit + 1],
  );
  const items = res.rows.slice(0, limit).map(view);
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
  lines: { productId: string; quantity: number; unitPrice: number }[];
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  rollbackMarker: boolean;
}

/** The reservation of an order (or only its rollback marker); undefined when inventory knows nothing of it. */
export async function readReservation(q: Queryable, orderId: string): Promise<ReservationView | undefined> {
  const res = await q.query<{
    status: string;
    lines: ReservationView['lines'];
    expires_at: Date;
    created_at: Date;
    updated_at: Date;
  }>('SELECT status, lines, expires_at, created_at, updated_at FROM reservations WHERE order_id = $1', [orderId]);
  const marker = await q.query<{ created_at: Date }>(
    'SELECT created_at FROM inventory_rollback_markers WHERE order_id = $1',
    [orderId],
  );
  const r = res.rows[0];
  const m = marker.rows[0];
  if (!r && !m) return undefined;
  if (!r)
    return {
      orderId,
      status: 'NONE',
      lines: [],
      expiresAt: new Date(m!.created_at).toISOString(),
      createdAt: new Date(m!.created_at).toISOString(),
      updatedAt: new Date(m!.created_at).toISOString(),
      rollbackMarker: true,
    };
  return {
    orderId,
    status: r.status,
    lines: r.lines,
    expiresAt: new Date(r.expires_at).toISOString(),
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    rollbackMarker: m !== undefined,
  };
}
