/**
 * What an order knows of its returns (issue 21): each return's lines, the amount they were paid, and how far its
 * saga got. Folded from the order's stream by `evolve` (order.ts) through `evolveReturns`; the decisions are in
 * returns.ts. No I/O, no clock.
 */
import type { EventData, ReturnItem } from '@commerce/contracts';

/** REQUESTED: asked for, inventory and payment at work; COMPLETED: restocked and refunded; FAILED: see reasons. */
export type ReturnStatus = 'REQUESTED' | 'COMPLETED' | 'FAILED';
export const RETURN_STATUSES: readonly ReturnStatus[] = ['REQUESTED', 'COMPLETED', 'FAILED'];

export interface OrderReturn {
  returnId: string;
  items: ReturnItem[];
  /** Σ quantity × unitPrice of the order's lines, integer minor units: what the refund gives back. */
  amount: number;
  reason: string | null;
  status: ReturnStatus;
  /** Inventory's answer: the units are back in stock (true), it refused (false), not yet (null). */
  restocked: boolean | null;
  /** Payment's answer: the amount is back on the balance (true), it refused (false), not yet (null). */
  refunded: boolean | null;
  refundRequested: boolean;
  reasons: string[];
  requestedAt: string;
  updatedAt: string;
}

/** The order's return status as GET /orders/{id} shows it, beside the order's (final) status. */
export type OrderReturnStatus = 'NONE' | 'PARTIALLY_RETURNED' | 'RETURNED';

/** The return events recorded in an order's stream (its own ORDER_RETURN_* and the answers it recorded). */
export type ReturnEventType =
  | 'ORDER_RETURN_REQUESTED'
  | 'INVENTORY_RETURN_RESTOCKED'
  | 'INVENTORY_RETURN_RESTOCK_FAILED'
  | 'ORDER_RETURN_REFUND_REQUESTED'
  | 'PAYMENT_PARTIALLY_REFUNDED'
  | 'PAYMENT_PARTIAL_REFUND_FAILED'
  | 'ORDER_RETURN_COMPLETED'
  | 'ORDER_RETURN_FAILED';

export type ReturnEvent = {
  [K in ReturnEventType]: { type: K; data: EventData<K>; occurredAt: string };
}[ReturnEventType];

function withReturn(
  returns: readonly OrderReturn[],
  returnId: string,
  at: string,
  change: (r: OrderReturn) => Partial<OrderReturn>,
): OrderReturn[] {
  return returns.map((r) => (r.returnId === returnId ? { ...r, ...change(r), updatedAt: at } : r));
}

function addReason(reasons: readonly string[], reason: string): string[] {
  return reasons.includes(reason) ? [...reasons] : [...reasons, reason];
}

export const restockFailureReason = (d: EventData<'INVENTORY_RETURN_RESTOCK_FAILED'>) =>
  `RESTOCK_${d.reason}: ${d.productIds.join(', ')}`.slice(0, 200);
export const refundFailureReason = (d: EventData<'PAYMENT_PARTIAL_REFUND_FAILED'>) => `REFUND_${d.reason}`;

/** The fold of one return event into the order's returns. */
export function evolveReturns(returns: readonly OrderReturn[], e: ReturnEvent): OrderReturn[] {
  const at = e.occurredAt;
  switch (e.type) {
    case 'ORDER_RETURN_REQUESTED':
      return [
        ...returns,
        {
          returnId: e.data.returnId,
          items: e.data.items,
          amount: e.data.amount,
          reason: e.data.reason,
          status: 'REQUESTED',
          restocked: null,
          refunded: null,
          refundRequested: false,
          reasons: [],
          requestedAt: at,
          updatedAt: at,
        },
      ];
    case 'INVENTORY_RETURN_RESTOCKED':
      return withReturn(returns, e.data.returnId, at, () => ({ restocked: true }));
    case 'INVENTORY_RETURN_RESTOCK_FAILED':
      return withReturn(returns, e.data.returnId, at, (r) => ({
        restocked: false,
        reasons: addReason(r.reasons, restockFailureReason(e.data)),
      }));
    case 'ORDER_RETURN_REFUND_REQUESTED':
      return withReturn(returns, e.data.returnId, at, () => ({ refundRequested: true }));
    case 'PAYMENT_PARTIALLY_REFUNDED':
      return withReturn(returns, e.data.returnId, at, () => ({ refunded: true }));
    case 'PAYMENT_PARTIAL_REFUND_FAILED':
      return withReturn(returns, e.data.returnId, at, (r) => ({
        refunded: false,
        reasons: addReason(r.reasons, refundFailureReason(e.data)),
      }));
    case 'ORDER_RETURN_COMPLETED':
      return withReturn(returns, e.data.returnId, at, () => ({ status: 'COMPLETED' }));
    case 'ORDER_RETURN_FAILED':
      return withReturn(returns, e.data.returnId, at, (r) => ({
        status: 'FAILED',
        reasons: e.data.reasons.reduce(addReason, r.reasons),
      }));
  }
}

/**
 * Units of each product a return holds on to: every return not failed, and a failed one whose units were restocked
 * (they are back in stock: returning them again would restock them twice).
 */
export function claimedQuantities(returns: readonly OrderReturn[]): Map<string, number> {
  const claimed = new Map<string, number>();
  for (const r of returns)
    if (r.status !== 'FAILED' || r.restocked === true)
      for (const i of r.items) claimed.set(i.productId, (claimed.get(i.productId) ?? 0) + i.quantity);
  return claimed;
}

/** Units returned (completed returns) per product, and what their refunds gave back. */
export function returnedSummary(returns: readonly OrderReturn[]): {
  returned: { productId: string; quantity: number }[];
  refundedAmount: number;
} {
  const returned = new Map<string, number>();
  let refundedAmount = 0;
  for (const r of returns) {
    if (r.status !== 'COMPLETED') continue;
    refundedAmount += r.amount;
    for (const i of r.items) returned.set(i.productId, (returned.get(i.productId) ?? 0) + i.quantity);
  }
  return {
    returned: [...returned].map(([productId, quantity]) => ({ productId, quantity })),
    refundedAmount,
  };
}

/** NONE, PARTIALLY_RETURNED (some units returned), RETURNED (every unit bought is returned). */
export function returnStatusOf(
  items: readonly { productId: string; quantity: number }[],
  returns: readonly OrderReturn[],
): OrderReturnStatus {
  const { returned } = returnedSummary(returns);
  const units = returned.reduce((n, r) => n + r.quantity, 0);
  if (units === 0) return 'NONE';
  const bought = items.reduce((n, i) => n + i.quantity, 0);
  return units >= bought ? 'RETURNED' : 'PARTIALLY_RETURNED';
}
