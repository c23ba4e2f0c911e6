/**
 * The typed client (@commerce/client, issue 23) against the embedded default: an order placed, read until final and
 * its effects read back, every call typed by the types generated from the OpenAPI documents.
 */
import { randomUUID } from 'node:crypto';
import { createCommerceClient, type Order } from '@commerce/client';
import { afterAll, describe, expect, it } from 'vitest';
import { FINAL_STATUSES, type PlatformProcess, startProcess, tempDataDir } from '../support/platform.js';
import { waitFor } from '../support/services.js';

describe('@commerce/client on the embedded default', () => {
  const data = tempDataDir();
  let platform: PlatformProcess | undefined;
  afterAll(async () => {
    await platform?.kill();
    data.remove();
  });

  it('places an order, reads it until COMPLETED, and reads its stock and payment', { timeout: 120_000 }, async () => {
    platform = await startProcess('all', { DATA_DIR: data.dir }, { timeoutMs: 90_000 });
    const { order: orderUrl, inventory: inventoryUrl, payment: paymentUrl } = platform.urls;
    const api = createCommerceClient({
      orderUrl: orderUrl!,
      inventoryUrl,
      paymentUrl,
      token: platform.tokens.customer,
    });
    const key = randomUUID();
    const body = {
      customerId: 'demo-customer',
      currency: 'EUR' as const,
      items: [{ productId: 'demo-widget', quantity: 3, unitPrice: 1999 }],
    };

    const placed = await api.order.POST('/orders', { body, params: { header: { 'idempotency-key': key } } });
    expect(placed.response.status, JSON.stringify(placed.error)).toBe(202);
    const orderId = placed.data!.orderId;
    expect(placed.response.headers.get('location')).toBe(`/orders/${orderId}`);
    expect(placed.data).toMatchObject({ customerId: 'demo-customer', status: 'PENDING', totalAmount: 5997 });

    // The same key and body: the same order, said to be a replay.
    const again = await api.order.POST('/orders', { body, params: { header: { 'idempotency-key': key } } });
    expect(again.data?.orderId).toBe(orderId);
    expect(again.response.headers.get('idempotent-replayed')).toBe('true');

    const final: Order = await waitFor(
      async () => {
        const { data } = await api.order.GET('/orders/{orderId}', { params: { path: { orderId } } });
        return data && FINAL_STATUSES.includes(data.status) ? data : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `order ${orderId} to reach a final status` },
    );
    expect(final.status).toBe('COMPLETED');

    const events = await api.order.GET('/orders/{orderId}/events', { params: { path: { orderId } } });
    expect(events.data?.map((e) => e.type)).toEqual(expect.arrayContaining(['ORDER_CREATED', 'ORDER_COMPLETED']));
    const mine = await api.order.GET('/orders', { params: { query: { customerId: 'demo-customer' } } });
    expect(mine.data?.items.map((o) => o.orderId)).toContain(orderId);

    const product = await api.inventory.GET('/products/{productId}', {
      params: { path: { productId: 'demo-widget' } },
    });
    expect(product.data).toMatchObject({ productId: 'demo-widget', sold: 3, reserved: 0 });
    const payment = await api.payment.GET('/payments/{orderId}', { params: { path: { orderId } } });
    expect(payment.data).toMatchObject({ orderId, amount: 5997, status: 'APPROVED' });

    // Errors come back typed as the problem+json of the documents.
    const missing = await api.order.GET('/orders/{orderId}', { params: { path: { orderId: randomUUID() } } });
    expect(missing.response.status).toBe(404);
    expect(missing.error).toMatchObject({ status: 404, title: 'Not Found' });
  });
});
