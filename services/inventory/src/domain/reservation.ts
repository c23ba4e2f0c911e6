/**
 * The inventory decider: what one order message (or the sweeper) does to a reservation and to stock.
 * Pure: no I/O, no clock, no ids (time comes in as `now`); the application layer loads the state, calls
 * `decideInventory`, and returns the decision (stock, movements, reservation, marker, reply) as one effect.
 */

export type ReservationStatus = 'RESERVED' | 'COMMITTED' | 'RELEASED' | 'EXPIRED' | 'UNDONE_BEFORE_REQUEST';
export type InventoryFailureReason = 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT' | 'PRICE_MISMATCH' | 'CURRENCY_MISMATCH';
export type MovementKind = 'restock' | 'set' | 'reservation' | 'commit' | 'release' | 'expiry' | 'return';

export interface OrderLine {
  productId: string;
  quantity: number;
  unitPrice: number;
}

export interface ProductStock {
  productId: string;
  unitPrice: number;
  currency: string;
  available: number;
  reserved: number;
  sold: number;
}

export interface Reservation {
  status: ReservationStatus;
  lines: OrderLine[];
  expiresAt: Date;
}

/** What the store knows about one order, plus the (locked) products its lines name. */
export interface InventoryOrderState {
  reservation: Reservation | null;
  /** A rollback arrived before any reservation: the late ORDER_CREATED must not reserve. */
  rollbackMarker: boolean;
  /** Locked rows of the products a reservation names, by productId (those that exist); only `reserve` reads them. */
  products: ReadonlyMap<string, ProductStock>;
}

/** ORDER_CREATED: reserve every line for `ttlMs`, or fail. */
export type ReserveCommand = { type: 'reserve'; currency: string; items: readonly OrderLine[]; ttlMs: number };
/** ORDER_CONFIRMED: the reserved stock is sold. */
export type CommitCommand = { type: 'commit' };
/** A rollback request, or a cancellation that asks for one: give the stock back. */
export type ReleaseCommand = { type: 'release' };
/** The sweeper: a reservation past its expiry gives its stock back. */
export type ExpireCommand = { type: 'expire' };
export type InventoryCommand = ReserveCommand | CommitCommand | ReleaseCommand | ExpireCommand;

export interface StockChange {
  productId: string;
  kind: MovementKind;
  deltaAvailable: number;
  deltaReserved: number;
  deltaSold: number;
}

export type InventoryReply =
  | { eventType: 'INVENTORY_RESERVED'; data: { items: OrderLine[] } }
  | { eventType: 'INVENTORY_RESERVATION_FAILED'; data: { reason: InventoryFailureReason; productIds: string[] } }
  | { eventType: 'INVENTORY_COMMITTED'; data: Record<string, never> }
  | { eventType: 'INVENTORY_RELEASED'; data: Record<string, never> };

export interface InventoryDecision {
  /** Stock deltas, one per product line; each becomes a stock_movements row in the same transaction. */
  stock: StockChange[];
  /** The reservation as it must be stored afterwards (undefined: unchanged). */
  reservation?: Reservation;
  /** Store a rollback marker for the order. */
  storeMarker?: boolean;
  /** The event to publish (undefined: nothing to answer). */
  reply?: InventoryReply;
}

const NOTHING: InventoryDecision = { stock: [] };
const released = (): InventoryReply => ({ eventType: 'INVENTORY_RELEASED', data: {} });

/** Failure reasons are checked in this order; the products named are those failing the first reason found. */
function firstFailure(
  currency: string,
  items: readonly OrderLine[],
  products: ReadonlyMap<string, ProductStock>,
): { reason: InventoryFailureReason; productIds: string[] } | undefined {
  // Lines naming the same product twice (the order service refuses them) still may not oversell.
  const need = new Map<string, number>();
  for (const l of items) need.set(l.productId, (need.get(l.productId) ?? 0) + l.quantity);
  const checks: [InventoryFailureReason, (line: OrderLine, p: ProductStock | undefined) => boolean][] = [
    ['UNKNOWN_PRODUCT', (_l, p) => p === undefined],
    ['CURRENCY_MISMATCH', (_l, p) => p !== undefined && p.currency !== currency],
    ['PRICE_MISMATCH', (l, p) => p !== undefined && p.unitPrice !== l.unitPrice],
    ['OUT_OF_STOCK', (l, p) => p !== undefined && p.available < (need.get(l.productId) ?? 0)],
  ];
  for (const [reason, fails] of checks) {
    const productIds = items.filter((l) => fails(l, products.get(l.productId))).map((l) => l.productId);
    if (productIds.length > 0) return { reason, productIds: [...new Set(productIds)].sort() };
  }
  return undefined;
}

/** One stock change per line: `deltas(q)` gives [available, reserved, sold] for quantity q. */
function linesChange(
  lines: readonly OrderLine[],
  kind: MovementKind,
  deltas: (q: number) => [number, number, number],
): StockChange[] {
  return lines.map((l) => {
    const [deltaAvailable, deltaReserved, deltaSold] = deltas(l.quantity);
    return { productId: l.productId, kind, deltaAvailable, deltaReserved, deltaSold };
  });
}

export function decideInventory(command: InventoryCommand, state: InventoryOrderState, now: Date): InventoryDecision {
  const r = state.reservation;
  switch (command.type) {
    case 'reserve': {
      // A second ORDER_CREATED for an order already decided (other message id): its first answer stands.
      if (r) return NOTHING;
      if (state.rollbackMarker)
        return {
          stock: [],
          reservation: { status: 'UNDONE_BEFORE_REQUEST', lines: [...command.items], expiresAt: now },
          reply: released(),
        };
      const failure = firstFailure(command.currency, command.items, state.products);
      if (failure) return { stock: [], reply: { eventType: 'INVENTORY_RESERVATION_FAILED', data: failure } };
      const lines = command.items.map((l) => ({
        productId: l.productId,
        quantity: l.quantity,
        unitPrice: l.unitPrice,
      }));
      return {
        stock: linesChange(lines, 'reservation', (q) => [-q, q, 0]),
        reservation: { status: 'RESERVED', lines, expiresAt: new Date(now.getTime() + command.ttlMs) },
        reply: { eventType: 'INVENTORY_RESERVED', data: { items: lines } },
      };
    }
    case 'commit': {
      // Released already (expired by the sweeper, released, undone before the request): nothing to commit,
      // and the order must not stay CONFIRMED for ever; answer INVENTORY_RELEASED so that the saga cancels
      // it and refunds the payment (saga-protocol.md). No reservation (cannot follow a RESERVED answer) or
      // already committed: nothing to do.
      if (r && (r.status === 'EXPIRED' || r.status === 'RELEASED' || r.status === 'UNDONE_BEFORE_REQUEST'))
        return { stock: [], reply: released() };
      if (r?.status !== 'RESERVED') return NOTHING;
      return {
        stock: linesChange(r.lines, 'commit', (q) => [0, -q, q]),
        reservation: { ...r, status: 'COMMITTED' },
        reply: { eventType: 'INVENTORY_COMMITTED', data: {} },
      };
    }
    case 'release': {
      if (!r) return { stock: [], storeMarker: !state.rollbackMarker, reply: released() };
      if (r.status === 'RESERVED')
        return {
          stock: linesChange(r.lines, 'release', (q) => [q, -q, 0]),
          reservation: { ...r, status: 'RELEASED' },
          reply: released(),
        };
      if (r.status === 'COMMITTED')
        return {
          stock: linesChange(r.lines, 'release', (q) => [q, 0, -q]),
          reservation: { ...r, status: 'RELEASED' },
          reply: released(),
        };
      // Already released, expired or undone: the release happened once; the answer may repeat.
      return { stock: [], reply: released() };
    }
    case 'expire': {
      if (r?.status !== 'RESERVED' || r.expiresAt.getTime() > now.getTime()) return NOTHING;
      return {
        stock: linesChange(r.lines, 'expiry', (q) => [q, -q, 0]),
        reservation: { ...r, status: 'EXPIRED' },
        reply: released(),
      };
    }
  }
}
