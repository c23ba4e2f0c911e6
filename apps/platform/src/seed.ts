import type { Logger } from '@commerce/kernel';
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

/** Seeds through the services' own admin routes (in-process inject): the same validation as any client. */
export async function seedDemoData(platform: Platform, adminToken: string, log: Logger): Promise<void> {
  const inventory = platform.services.find((s) => s.name === 'inventory');
  const payment = platform.services.find((s) => s.name === 'payment');
  if (!inventory || !payment) return;
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const first = await inventory.app.inject({ method: 'GET', url: `/products/${DEMO_PRODUCTS[0].productId}`, headers });
  if (first.statusCode === 200) return; // seeded on an earlier start: never overwrite live stock
  for (const { productId, ...body } of DEMO_PRODUCTS) {
    const res = await inventory.app.inject({ method: 'PUT', url: `/products/${productId}`, headers, payload: body });
    if (res.statusCode !== 200) throw new Error(`seeding ${productId} failed: ${res.statusCode} ${res.body}`);
  }
  for (const { customerId, ...body } of DEMO_CUSTOMERS) {
    const res = await payment.app.inject({ method: 'PUT', url: `/customers/${customerId}`, headers, payload: body });
    if (res.statusCode !== 200) throw new Error(`seeding ${customerId} failed: ${res.statusCode} ${res.body}`);
  }
  log.info({ products: DEMO_PRODUCTS.length, customers: DEMO_CUSTOMERS.length }, 'demo data seeded');
}
