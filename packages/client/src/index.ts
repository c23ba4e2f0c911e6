/**
 * @commerce/client: typed calls to the three services, checked against their OpenAPI documents at compile time.
 * The types in ./generated are made by openapi-typescript from the documents (`npm run client:generate`; `npm test`
 * fails when they are stale); the calls go through openapi-fetch.
 *
 *   const api = createCommerceClient({ orderUrl, inventoryUrl, paymentUrl, token });
 *   const { data, error, response } = await api.order.POST('/orders', { body: { customerId, currency, items } });
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components as InventoryComponents, paths as InventoryPaths } from './generated/inventory.js';
import type { components as OrderComponents, paths as OrderPaths } from './generated/order.js';
import type { components as PaymentComponents, paths as PaymentPaths } from './generated/payment.js';

export type { InventoryPaths, OrderPaths, PaymentPaths };
export type Order = OrderComponents['schemas']['Order'];
export type PlaceOrderRequest = OrderComponents['schemas']['PlaceOrderRequest'];
export type OrderStatus = OrderComponents['schemas']['OrderStatus'];
export type Product = InventoryComponents['schemas']['Product'];
export type Account = PaymentComponents['schemas']['Account'];
export type Payment = PaymentComponents['schemas']['Payment'];
/** The application/problem+json body of every error answer. */
export type Problem = OrderComponents['schemas']['Problem'];

export interface CommerceClientOptions {
  /** Base URL of the order service (it also serves the admin and console routes), e.g. http://localhost:3000. */
  orderUrl: string;
  inventoryUrl?: string;
  paymentUrl?: string;
  /** Bearer token sent with every call. */
  token?: string;
  /** Another fetch (tests, proxies). */
  fetch?: typeof globalThis.fetch;
  /** Headers sent with every call (e.g. traceparent). */
  headers?: Record<string, string>;
}

export interface CommerceClient {
  order: Client<OrderPaths>;
  inventory: Client<InventoryPaths>;
  payment: Client<PaymentPaths>;
}

export function createCommerceClient(o: CommerceClientOptions): CommerceClient {
  const headers = { ...o.headers, ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) };
  const make = <P extends {}>(baseUrl: string | undefined, name: string): Client<P> => {
    if (!baseUrl) {
      // A client without that service's URL fails on first use, naming the option.
      return new Proxy({} as Client<P>, {
        get: () => {
          throw new Error(`createCommerceClient: ${name} is not set`);
        },
      });
    }
    return createClient<P>({ baseUrl: baseUrl.replace(/\/+$/, ''), headers, fetch: o.fetch });
  };
  return {
    order: make<OrderPaths>(o.orderUrl, 'orderUrl'),
    inventory: make<InventoryPaths>(o.inventoryUrl, 'inventoryUrl'),
    payment: make<PaymentPaths>(o.paymentUrl, 'paymentUrl'),
  };
}
