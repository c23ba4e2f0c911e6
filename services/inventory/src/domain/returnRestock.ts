/**
 * Restocking a return (issue 21): ORDER_RETURN_REQUESTED puts the returned units of a COMPLETED order back on sale
 * (available + q, sold − q, a `return` movement), once per return, or refuses with a reason (then the order fails the
 * return and no money moves: the refund is asked only after INVENTORY_RETURN_RESTOCKED). Pure: time comes in as `now`.
 */
import type { OrderLine, ProductStock, Reservation, StockChange } from './reservation.js';

export type RestockFailureReason = 'UNKNOWN_PRODUCT' | 'NOT_SOLD' | 'EXCEEDS_SOLD';

/** What inventory keeps of one return: restocked, or refused with a reason (so that a duplicate answers the same). */
export interface ReturnRestock {
  status: 'RESTOCKED' | 'FAILED';
  items: OrderLine[];
  reason: RestockFailureReason | null;
  productIds: string[];
}

export interface RestockState {
  /** The order's reservation: the units it sold (COMMITTED). */
  reservation: Reservation | null;
  /** The order's returns inventory has answered, by returnId. */
  restocks: ReadonlyMap<string, ReturnRestock>;
  /** The return's products, locked; a product missing here no longer exists. */
  products: ReadonlyMap<string, ProductStock>;
}

export interface RestockCommand {
  type: 'restock';
  returnId: string;
  items: readonly OrderLine[];
}

export type RestockReply =
  | { eventType: 'INVENTORY_RETURN_RESTOCKED'; data: { returnId: string; items: OrderLine[] } }
  | {
      eventType: 'INVENTORY_RETURN_RESTOCK_FAILED';
      data: { returnId: string; reason: RestockFailureReason; productIds: string[] };
    };

export interface RestockDecision {
  stock: StockChange[];
  /** The restock record to store (undefined: already stored). */
  restock?: ReturnRestock;
  reply: RestockReply;
}

function replyOf(returnId: string, r: ReturnRestock): RestockReply {
  return r.status === 'RESTOCKED'
    ? { eventType: 'INVENTORY_RETURN_RESTOCKED', data: { returnId, items: r.items } }
    : {
        eventType: 'INVENTORY_RETURN_RESTOCK_FAILED',
        data: { returnId, reason: r.reason as RestockFailureReason, productIds: r.productIds },
      };
}

/** Units of each product already restocked for this order by its earlier returns. */
function restockedBefore(restocks: ReadonlyMap<string, ReturnRestock>): Map<string, number> {
  const done = new Map<string, number>();
  for (const r of restocks.values())
    if (r.status === 'RESTOCKED')
      for (const i of r.items) done.set(i.productId, (done.get(i.productId) ?? 0) + i.quantity);
  return done;
}

/** Failure reasons are checked in this order; the products named are those failing the first reason found. */
function firstFailure(
  cmd: RestockCommand,
  state: RestockState,
): { reason: RestockFailureReason; productIds: string[] } | undefined {
  const sold = new Map<string, number>();
  if (state.reservation?.status === 'COMMITTED')
    for (const l of state.reservation.lines) sold.set(l.productId, (sold.get(l.productId) ?? 0) + l.quantity);
  const before = restockedBefore(state.restocks);
  const checks: [RestockFailureReason, (l: OrderLine) => boolean][] = [
    ['NOT_SOLD', (l) => !sold.has(l.productId)],
    ['EXCEEDS_SOLD', (l) => (before.get(l.productId) ?? 0) + l.quantity > (sold.get(l.productId) ?? 0)],
    ['UNKNOWN_PRODUCT', (l) => !state.products.has(l.productId)],
    // The product's own count must cover it too (it never goes below 0).
    ['EXCEEDS_SOLD', (l) => (state.products.get(l.productId)?.sold ?? 0) < l.quantity],
  ];
  for (const [reason, fails] of checks) {
    const productIds = cmd.items.filter(fails).map((l) => l.productId);
    if (productIds.length > 0) return { reason, productIds: [...new Set(productIds)].sort() };
  }
  return undefined;
}

export function decideReturnRestock(cmd: RestockCommand, state: RestockState): RestockDecision {
  const known = state.restocks.get(cmd.returnId);
  // Answered before (another delivery of the request): the same answer, nothing restocked again.
  if (known) return { stock: [], reply: replyOf(cmd.returnId, known) };
  const items = cmd.items.map((l) => ({ productId: l.productId, quantity: l.quantity, unitPrice: l.unitPrice }));
  const failure = firstFailure(cmd, state);
  if (failure) {
    const restock: ReturnRestock = { status: 'FAILED', items, ...failure };
    return { stock: [], restock, reply: replyOf(cmd.returnId, restock) };
  }
  const restock: ReturnRestock = { status: 'RESTOCKED', items, reason: null, productIds: [] };
  return {
    stock: items.map((l) => ({
      productId: l.productId,
      kind: 'return',
      deltaAvailable: l.quantity,
      deltaReserved: 0,
      deltaSold: -l.quantity,
    })),
    restock,
    reply: replyOf(cmd.returnId, restock),
  };
}
