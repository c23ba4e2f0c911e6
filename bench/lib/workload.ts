/**
 * The order mix shared by the pgbench baselines and the platform scenarios, so that both do the same work:
 * every order has two distinct products (quantity 1) of PRODUCTS, for one of CUSTOMERS, in EUR, and stock and
 * balances are large enough that every order completes.
 */
export const PRODUCTS = 200;
export const CUSTOMERS = 500;
export const CURRENCY = 'EUR';
export const STOCK = 1_000_000_000;
export const BALANCE = 1_000_000_000_000;

export const productId = (i: number) => `bench-p${i}`;
export const customerId = (i: number) => `bench-c${i}`;
export const priceOf = (i: number) => 100 + i;

export interface OrderBody {
  customerId: string;
  currency: string;
  items: { productId: string; quantity: number; unitPrice: number }[];
}

export function randomOrder(): OrderBody {
  const p1 = Math.floor(Math.random() * PRODUCTS);
  const p2 = (p1 + 1 + Math.floor(Math.random() * (PRODUCTS - 1))) % PRODUCTS;
  return {
    customerId: customerId(Math.floor(Math.random() * CUSTOMERS)),
    currency: CURRENCY,
    items: [
      { productId: productId(p1), quantity: 1, unitPrice: priceOf(p1) },
      { productId: productId(p2), quantity: 1, unitPrice: priceOf(p2) },
    ],
  };
}
