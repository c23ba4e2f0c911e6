import {
  inventoryStatusOf,
  type OrderReturnStatus,
  type OrderState,
  type OrderStatus,
  paymentStatusOf,
  returnedSummary,
  returnStatusOf,
} from '../domain/index.js';

/** What the API answers for an order (SPEC §4), and what the read model holds. */
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
  /** Returns (issue 21): NONE, PARTIALLY_RETURNED or RETURNED, beside `status` (which stays COMPLETED). */
  returnStatus: OrderReturnStatus;
  /** Units returned per product (completed returns). */
  returned: { productId: string; quantity: number }[];
  /** What the completed returns refunded, integer minor units. */
  refundedAmount: number;
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();

/** The view of a folded state: exactly what the store's projection writes and its reads give back. */
export function viewOf(orderId: string, s: OrderState): OrderView | undefined {
  if (s.status === null || s.createdAt === null || s.customerId === null || s.currency === null) return undefined;
  return {
    orderId,
    customerId: s.customerId,
    status: s.status,
    currency: s.currency,
    items: s.items,
    totalAmount: s.totalAmount,
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt ?? s.createdAt),
    version: s.version,
    inventory: { status: inventoryStatusOf(s) },
    payment: { status: paymentStatusOf(s) },
    reasons: s.reasons,
    ...returnFieldsOf(s),
  };
}

/** The return fields of an order's view, from its returns. */
export function returnFieldsOf(
  s: Pick<OrderState, 'items' | 'returns'>,
): Pick<OrderView, 'returnStatus' | 'returned' | 'refundedAmount'> {
  return { returnStatus: returnStatusOf(s.items, s.returns), ...returnedSummary(s.returns) };
}
