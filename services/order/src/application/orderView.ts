import { inventoryStatusOf, type OrderState, type OrderStatus, paymentStatusOf } from '../domain/index.js';

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
  };
}
