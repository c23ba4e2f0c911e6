import { type Envelope, EVENTS, routingKeyOf, SCHEMA_VERSION } from '@commerce/contracts';
import { allInOrder, enqueueOutbox, handleOnce, type Queryable, type ServiceContext } from '@commerce/kernel';
import {
  decideInventory,
  type InventoryCommand,
  type InventoryReply,
  type OrderLine,
  type ProductStock,
  type Reservation,
  type StockChange,
} from '../domain/reservation.js';

/** Consumer name in the inbox, and the queue it reads (saga-protocol.md). */
export const INVENTORY_CONSUMER = 'inventory.order_events';

export type InventoryDeps = Pick<ServiceContext, 'db' | 'dedup' | 'now' | 'newId' | 'settings'>;

/** The order message, as the decider's command; undefined when inventory has nothing to do with it. */
export function inventoryCommandOf(e: Envelope, now: Date, ttlMs: number): InventoryCommand | undefined {
  const data = e.data as Record<string, unknown>;
  switch (e.eventType) {
    case 'ORDER_CREATED':
      return {
        type: 'reserve',
        currency: String(data.currency),
        items: data.items as OrderLine[],
        now,
        ttlMs,
      };
    case 'ORDER_CONFIRMED':
      return { type: 'commit' };
    case 'ORDER_INVENTORY_ROLLBACK_REQUESTED':
      return { type: 'release' };
    case 'ORDER_CANCELLED':
      return data.requiresInventoryRollback === true ? { type: 'release' } : undefined;
    default:
      return undefined;
  }
}

/**
 * Handles one order message exactly once: inbox row, stock change, movements, reservation and the answer's
 * outbox row commit together. Returns the answer (undefined: a duplicate, or nothing to answer).
 */
export async function handleInventoryOrderEvent(
  deps: InventoryDeps,
  delivery: { envelope: Envelope; traceparent?: string },
): Promise<InventoryReply | undefined> {
  const e = delivery.envelope;
  const now = deps.now();
  const command = inventoryCommandOf(e, now, deps.settings.reservationTtlMs);
  if (!command) return undefined;
  const out = await handleOnce(
    { db: deps.db, dedup: deps.dedup, consumer: INVENTORY_CONSUMER, messageId: e.eventId },
    (tx) =>
      applyToOrder(tx, deps, e.orderId, command, { eventId: e.eventId, traceparent: delivery.traceparent }, (w) =>
        tx.final(w),
      ),
  );
  return out.result;
}

interface Cause {
  eventId: string | null;
  traceparent?: string;
}

interface ReservationRow {
  status: Reservation['status'];
  lines: OrderLine[];
  expires_at: Date;
}

const toReservation = (r: ReservationRow): Reservation => ({
  status: r.status,
  lines: r.lines,
  expiresAt: new Date(r.expires_at),
});

/** Applies a command to one order inside the caller's transaction. Used by the consumer and (expire) the sweeper. */
export async function applyToOrder(
  tx: Queryable,
  deps: Pick<InventoryDeps, 'now' | 'newId'>,
  orderId: string,
  command: InventoryCommand,
  cause: Cause,
  /** Awaits the writes: the consumer sends them with its COMMIT (Transaction.final); the sweeper goes on. */
  settle: (writes: Promise<unknown>[]) => Promise<unknown> = allInOrder,
): Promise<InventoryReply | undefined> {
  // Messages of one order (several deliveries in flight at once) are applied one after the other: the order's
  // lock first, then what is known of the order, then (a reservation) its products, locked in productId order.
  // All issued together: one batch and round trip; the server runs them in this order. Products are locked
  // even when the reservation turns out to exist already (a late duplicate): harmless, and rare.
  const reserving = command.type === 'reserve';
  const [, found, marker, stock] = await allInOrder([
    tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`inventory:order:${orderId}`]),
    tx.query<ReservationRow>('SELECT status, lines, expires_at FROM reservations WHERE order_id = $1 FOR UPDATE', [
      orderId,
    ]),
    tx.query('SELECT 1 FROM inventory_rollback_markers WHERE order_id = $1', [orderId]),
    reserving
      ? lockProducts(
          tx,
          command.items.map((l) => l.productId),
        )
      : undefined,
  ] as const);
  const reservation = found.rows[0] ? toReservation(found.rows[0]) : null;
  // Only a reservation reads stock before deciding; the other commands lock products once they know they change them.
  const products =
    reserving && !reservation && marker.rowCount === 0 && stock ? stock : new Map<string, ProductStock>();
  const decision = decideInventory(command, { reservation, rollbackMarker: marker.rowCount > 0, products });
  const now = deps.now();
  if (decision.stock.length > 0 && command.type !== 'reserve')
    await lockProducts(
      tx,
      decision.stock.map((c) => c.productId),
    );
  // The writes depend only on the decision: one batch and round trip (with the COMMIT, in the consumer).
  const writes: Promise<unknown>[] = [];
  if (decision.stock.length > 0) writes.push(applyStockChanges(tx, decision.stock, orderId, now));
  if (decision.reservation) {
    const r = decision.reservation;
    writes.push(
      tx.query(
        `INSERT INTO reservations (order_id, status, lines, expires_at, created_at, updated_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $5)
       ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at`,
        [orderId, r.status, JSON.stringify(r.lines), r.expiresAt, now],
      ),
    );
  }
  if (decision.storeMarker)
    writes.push(
      tx.query(
        `INSERT INTO inventory_rollback_markers (order_id, cause_event_id, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (order_id) DO NOTHING`,
        [orderId, cause.eventId, now],
      ),
    );
  if (decision.reply) writes.push(enqueueReply(tx, deps, orderId, decision.reply, cause, now));
  await settle(writes);
  return decision.reply;
}

/**
 * Locks the named product rows, in productId order so that two orders sharing products never deadlock
 * (SELECT ... FOR UPDATE locks rows in the order the sorted scan returns them).
 */
export async function lockProducts(tx: Queryable, productIds: readonly string[]): Promise<Map<string, ProductStock>> {
  const ids = [...new Set(productIds)].sort();
  const res = await tx.query<{
    product_id: string;
    unit_price: number;
    currency: string;
    available: number;
    reserved: number;
    sold: number;
  }>(
    `SELECT product_id, unit_price, currency, available, reserved, sold FROM products
      WHERE product_id = ANY($1::text[]) ORDER BY product_id FOR UPDATE`,
    [ids],
  );
  return new Map(
    res.rows.map((r) => [
      r.product_id,
      {
        productId: r.product_id,
        unitPrice: Number(r.unit_price),
        currency: r.currency,
        available: Number(r.available),
        reserved: Number(r.reserved),
        sold: Number(r.sold),
      },
    ]),
  );
}

/** Writes stock deltas and their movement rows (the CHECK constraints refuse any negative count). */
export async function applyStockChanges(
  tx: Queryable,
  changes: readonly StockChange[],
  orderId: string | null,
  at: Date,
): Promise<void> {
  // Issued together (one batch and round trip on pg); rows were locked before, in productId order.
  const statements: Promise<unknown>[] = changes.map((c) =>
    tx.query(
      `UPDATE products SET available = available + $2, reserved = reserved + $3, sold = sold + $4,
              version = version + 1, updated_at = $5
        WHERE product_id = $1`,
      [c.productId, c.deltaAvailable, c.deltaReserved, c.deltaSold, at],
    ),
  );
  statements.push(
    tx.query(
      `INSERT INTO stock_movements (product_id, order_id, kind, delta_available, delta_reserved, delta_sold, at)
     SELECT c.product_id, $1::uuid, c.kind, c.da, c.dr, c.ds, $2
       FROM unnest($3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
            WITH ORDINALITY AS c(product_id, kind, da, dr, ds, ord)
      ORDER BY c.ord`,
      [
        orderId,
        at,
        changes.map((c) => c.productId),
        changes.map((c) => c.kind),
        changes.map((c) => c.deltaAvailable),
        changes.map((c) => c.deltaReserved),
        changes.map((c) => c.deltaSold),
      ],
    ),
  );
  await allInOrder(statements);
}

async function enqueueReply(
  tx: Queryable,
  deps: Pick<InventoryDeps, 'newId'>,
  orderId: string,
  reply: InventoryReply,
  cause: Cause,
  now: Date,
): Promise<void> {
  const envelope: Envelope = {
    eventId: deps.newId(),
    eventType: reply.eventType,
    schemaVersion: SCHEMA_VERSION,
    occurredAt: now.toISOString(),
    orderId,
    causationId: cause.eventId,
    source: 'inventory',
    data: reply.data,
  };
  await enqueueOutbox(tx, [
    {
      exchange: EVENTS[reply.eventType].exchange,
      routingKey: routingKeyOf(reply.eventType),
      envelope,
      traceparent: cause.traceparent,
    },
  ]);
}
