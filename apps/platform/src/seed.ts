import type { Logger } from '@commerce/kernel';
import type { FastifyInstance, InjectOptions } from 'fastify';
import type { Platform } from './platform.js';

/** Demo catalogue and accounts: the embedded default seeds them on first start; `commerce seed` on demand. */
export const DEMO_PRODUCTS = [
  { productId: 'demo-widget', name: 'Widget', unitPrice: 1999, currency: 'EUR', stock: 1000 },
  { productId: 'demo-gadget', name: 'Gadget', unitPrice: 4999, currency: 'EUR', stock: 100 },
  { productId: 'demo-rare', name: 'Rare collectible', unitPrice: 25000, currency: 'EUR', stock: 1 },
] as const;
export const DEMO_CUSTOMERS = [
  { customerId: 'demo-customer', balance: 1_000_000, currency: 'EUR' },
  { customerId: 'demo-poor', balance: 500, currency: 'EUR' },
] as const;

/**
 * One call of the seed. Its requests count against RATE_LIMIT like any client's: a 429 is retried after its
 * Retry-After when that is short (RATE_LIMIT=2/second), and stops the seed naming the setting when it is not.
 */
async function call(app: FastifyInstance, opts: InjectOptions) {
  for (;;) {
    const res = await app.inject(opts);
    if (res.statusCode !== 429) return res;
    const wait = Number(res.headers['retry-after'] ?? 1);
    if (!(wait <= 5))
      throw new Error(`seeding the demo data: RATE_LIMIT refuses it for ${wait} s; raise RATE_LIMIT or set it to off`);
    await new Promise((r) => setTimeout(r, wait * 1000));
  }
}

/** Seeds through the services' own admin routes (in-process inject): the same validation as any client. */
export async function seedDemoData(platform: Platform, adminToken: string, log: Logger): Promise<void> {
  const inventory = platform.services.find((s) => s.name === 'inventory');
  const payment = platform.services.find((s) => s.name === 'payment');
  if (!inventory || !payment) return;
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const first = await call(inventory.app, { method: 'GET', url: `/products/${DEMO_PRODUCTS[0].productId}`, headers });
  if (first.statusCode === 200) return; // seeded on an earlier start: never overwrite live stock
  for (const { productId, ...body } of DEMO_PRODUCTS) {
    const res = await call(inventory.app, { method: 'PUT', url: `/products/${productId}`, headers, payload: body });
    if (res.statusCode !== 200) throw new Error(`seeding ${productId} failed: ${res.statusCode} ${res.body}`);
  }
  for (const { customerId, ...body } of DEMO_CUSTOMERS) {
    const res = await call(payment.app, { method: 'PUT', url: `/customers/${customerId}`, headers, payload: body });
    if (res.statusCode !== 200) throw new Error(`seeding ${customerId} failed: ${res.statusCode} ${res.body}`);
  }
  log.info({ products: DEMO_PRODUCTS.length, customers: DEMO_CUSTOMERS.length }, 'demo data seeded');
}
