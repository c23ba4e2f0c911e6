/** Shared pieces of the webhook e2e tests: settings for a loopback receiver, mixed orders, admin calls. */
import { http, type placeOrder } from './platform.js';

export const SCHEDULE = [300, 600];
export const WEBHOOK_TEST_ENV = {
  RATE_LIMIT: 'off',
  WEBHOOK_ALLOW_INSECURE: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE_MS: SCHEDULE.join(','),
  WEBHOOK_RESPONSE_BODY_LIMIT: '12',
  WEBHOOK_TIMEOUT_MS: '5000',
  WEBHOOK_DISABLE_AFTER_MS: '2500',
  WEBHOOK_SECRET_KEY: 'an e2e key of at least thirty-two bytes, not a real one',
};

type Order = Parameters<typeof placeOrder>[2];
/** Mixed outcomes: completed, declined (compensated), currency mismatch (cancelled), unknown product (refunded). */
export function mixedOrder(i: number): { customer: 'customer' | 'admin'; body: Order } {
  switch (i % 4) {
    case 0:
      return {
        customer: 'customer',
        body: {
          customerId: 'demo-customer',
          currency: 'EUR',
          items: [{ productId: 'demo-widget', quantity: 1, unitPrice: 1999 }],
        },
      };
    case 1:
      return {
        customer: 'admin',
        body: {
          customerId: 'demo-poor',
          currency: 'EUR',
          items: [{ productId: 'demo-gadget', quantity: 1, unitPrice: 4999 }],
        },
      };
    case 2:
      return {
        customer: 'customer',
        body: {
          customerId: 'demo-customer',
          currency: 'JPY',
          items: [{ productId: 'demo-widget', quantity: 1, unitPrice: 1000 }],
        },
      };
    default:
      return {
        customer: 'customer',
        body: {
          customerId: 'demo-customer',
          currency: 'EUR',
          items: [{ productId: 'no-such-product', quantity: 1, unitPrice: 100 }],
        },
      };
  }
}

export async function createEndpoint(
  orderUrl: string,
  admin: string,
  body: { url: string; eventTypes?: string[]; customerId?: string; description?: string },
): Promise<{ endpointId: string; secret: string }> {
  const r = await http('POST', `${orderUrl}/admin/webhooks`, admin, body);
  if (r.status !== 201) throw new Error(`POST /admin/webhooks answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function eventsOf(orderUrl: string, admin: string, orderId: string) {
  const r = await http('GET', `${orderUrl}/orders/${orderId}/events`, admin);
  return r.body as { eventId: string; type: string; version: number }[];
}
