import { randomUUID } from 'node:crypto';
import { type ServiceContext, signToken } from '@commerce/kernel';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { orderEnvelope } from '../../../../test/support/consumers.js';
import { type ModuleServer, startModuleServer } from '../../../../test/support/moduleServer.js';
import { describeWith } from '../../../../test/support/services.js';
import { handlePaymentOrderEvent } from '../application/chargePayment.js';
import { paymentService } from '../index.js';

const SECRET = 'payment-route-test-secret-0123456789abcdefgh';

describeWith(['postgres'], 'payment HTTP routes (kernel createHttpServer)', () => {
  let server: ModuleServer;
  let app: FastifyInstance;
  let ctx: ServiceContext;
  const auth: Record<string, string> = {};
  const orderId = randomUUID();

  beforeAll(async () => {
    server = await startModuleServer(paymentService, { prefix: 'routes', secret: SECRET });
    ({ app, ctx } = server);
    for (const [name, sub, role] of [
      ['admin', 'ops', 'admin'],
      ['alice', 'alice', 'customer'],
      ['mallory', 'mallory', 'customer'],
    ] as const)
      auth[name] = `Bearer ${await signToken({ secret: SECRET, sub, role })}`;
  });
  afterAll(async () => {
    await server?.drop();
  });

  const get = (url: string, who: string) => app.inject({ method: 'GET', url, headers: { authorization: auth[who]! } });

  it('admin PUT creates or replaces an account (200); customers may not (403); bad fields are named', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/customers/alice',
      headers: { authorization: auth.admin! },
      payload: { balance: 5000, currency: 'EUR' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ customerId: 'alice', balance: 5000, currency: 'EUR' });
    const self = await app.inject({
      method: 'PUT',
      url: '/customers/alice',
      headers: { authorization: auth.alice! },
      payload: { balance: 999_999, currency: 'EUR' },
    });
    expect(self.statusCode).toBe(403);
    const bad = await app.inject({
      method: 'PUT',
      url: '/customers/alice',
      headers: { authorization: auth.admin! },
      payload: { balance: 10.5, currency: 'eur' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((bad.json() as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual([
      '/balance',
      '/currency',
    ]);
  });

  it('GET /customers/{id}: the customer itself or admin; another customer gets 404, as for an unknown one', async () => {
    expect((await get('/customers/alice', 'alice')).json()).toEqual({
      customerId: 'alice',
      balance: 5000,
      currency: 'EUR',
    });
    expect((await get('/customers/alice', 'admin')).statusCode).toBe(200);
    const other = await get('/customers/alice', 'mallory');
    expect(other.statusCode).toBe(404);
    expect(other.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await get('/customers/nobody', 'admin')).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/customers/alice' })).statusCode).toBe(401);
  });

  it('GET /payments/{orderId}: the paying customer or admin; others 404', async () => {
    await handlePaymentOrderEvent(ctx, {
      envelope: orderEnvelope('ORDER_CREATED', orderId, {
        customerId: 'alice',
        currency: 'EUR',
        items: [{ productId: 'p', quantity: 1, unitPrice: 1200 }],
        totalAmount: 1200,
      }),
    });
    const mine = await get(`/payments/${orderId}`, 'alice');
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({
      orderId,
      customerId: 'alice',
      amount: 1200,
      currency: 'EUR',
      status: 'APPROVED',
    });
    expect((await get(`/payments/${orderId}`, 'admin')).statusCode).toBe(200);
    expect((await get(`/payments/${orderId}`, 'mallory')).statusCode).toBe(404);
    expect((await get(`/payments/${randomUUID()}`, 'admin')).statusCode).toBe(404);
    expect((await get('/payments/not-a-uuid', 'admin')).statusCode).toBe(400);
    expect((await get('/customers/alice', 'alice')).json()).toMatchObject({ balance: 3800 });
  });

  it('GET /admin/money-movements: admin only, filtered by customer and order', async () => {
    const res = await get(`/admin/money-movements?customerId=alice`, 'admin');
    expect(res.statusCode).toBe(200);
    expect((res.json() as { items: { kind: string; delta: number }[] }).items.map((m) => [m.kind, m.delta])).toEqual([
      ['set', 5000],
      ['deduction', -1200],
    ]);
    const byOrder = await get(`/admin/money-movements?orderId=${orderId}`, 'admin');
    expect((byOrder.json() as { items: unknown[] }).items).toHaveLength(1);
    expect((await get('/admin/money-movements', 'alice')).statusCode).toBe(403);
  });
});
