/**
 * The catalogue's rules: an admin sets a product (its details and the stock on hand) or adds stock. Pure, like the
 * reservation decider: every change of a count is a stock change, stored as a movement, so that the counts always
 * equal the sum of the movements (SPEC §9).
 */
import type { ProductStock, StockChange } from './reservation.js';

export interface Product extends ProductStock {
  name: string;
}

/** An admin's PUT of a product. */
export interface PutProduct {
  productId: string;
  name: string;
  unitPrice: number;
  currency: string;
  /** The on-hand stock available for sale after the call (reserved and sold are left as they are). */
  stock: number;
}

export interface ProductDecision {
  /** The product as it is once the change is stored. */
  product: Product;
  stock: StockChange[];
}

/** Replaces the details; the change of `available` to the stock asked for is a `set` movement. */
export function decidePutProduct(current: Product, put: PutProduct): ProductDecision {
  const delta = put.stock - current.available;
  return {
    product: { ...current, name: put.name, unitPrice: put.unitPrice, currency: put.currency, available: put.stock },
    stock:
      delta === 0
        ? []
        : [{ productId: put.productId, kind: 'set', deltaAvailable: delta, deltaReserved: 0, deltaSold: 0 }],
  };
}

/** Adds `quantity` to the stock available (a `restock` movement); undefined for a product that does not exist. */
export function decideRestock(current: Product | undefined, quantity: number): ProductDecision | undefined {
  if (!current) return undefined;
  return {
    product: { ...current, available: current.available + quantity },
    stock: [
      { productId: current.productId, kind: 'restock', deltaAvailable: quantity, deltaReserved: 0, deltaSold: 0 },
    ],
  };
}
