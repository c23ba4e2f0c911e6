import { randomUUID } from 'node:crypto';
import { type ServiceContext, signToken } from '@commerce/kernel';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEnvelope } from '../../../../test/support/consumers.js';
import { type ModuleServer, startModuleServer } from '../../../../test/support/moduleServer.js';
import { describeWith } from '../../../../test/support/services.js';
import { paymentDeps, paymentService } from '../index.js';
import { handlePaymentOrderEvent } from './consumer.js';
import { readAccount } from './store.js';

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
    await handlePaymentOrderEvent(paymentDeps(ctx), ctx, {
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

  it('GET /admin/money-movements pages with nextCursor; a cursor it did not issue answers 400 naming it', async () => {
    type Page = { items: { kind: string }[]; nextCursor: string | null };
    const first = (await get('/admin/money-movements?customerId=alice&limit=1', 'admin')).json() as Page;
    expect(first.items.map((m) => m.kind)).toEqual(['set']);
    const second = (
      await get(`/admin/money-movements?customerId=alice&limit=1&cursor=${first.nextCursor}`, 'admin')
    ).json() as Page;
    expect(second.items.map((m) => m.kind)).toEqual(['deduction']);
    expect(second.nextCursor).toBeNull();
    const bad = await get('/admin/money-movements?cursor=not-a-cursor', 'admin');
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['/cursor']);
  });

  describe('POST /customers/{id}/top-up', () => {
    const topUp = (customerId: string, payload: unknown, key?: string, who = 'admin') =>
      app.inject({
        method: 'POST',
        url: `/customers/${customerId}/top-up`,
        headers: { authorization: auth[who]!, ...(key === undefined ? {} : { 'idempotency-key': key }) },
        payload: payload as object,
      });
    const balance = async (customerId: string) => (await readAccount(ctx.db, customerId))?.balance;
    const deposits = async (customerId: string) =>
      (
        await ctx.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM money_movements WHERE customer_id = $1 AND kind = 'deposit'",
          [customerId],
        )
      ).rows[0]?.n;
    const account = (customerId: string, payload: unknown) =>
      app.inject({ method: 'PUT', url: `/customers/${customerId}`, headers: { authorization: auth.admin! }, payload });

    it('adds to the balance as a deposit movement; customers may not (403); bad fields are named', async () => {
      await account('tess', { balance: 1000, currency: 'EUR' });
      const res = await topUp('tess', { amount: 250, currency: 'EUR' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ customerId: 'tess', balance: 1250, currency: 'EUR' });
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(await deposits('tess')).toBe(1);
      expect((await topUp('tess', { amount: 250, currency: 'EUR' }, undefined, 'alice')).statusCode).toBe(403);
      const bad = await topUp('tess', { amount: 0, currency: 'eur' });
      expect(bad.statusCode).toBe(400);
      expect((bad.json() as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual([
        '/amount',
        '/currency',
      ]);
      expect((await topUp('tess', { amount: 1.5, currency: 'EUR' })).statusCode).toBe(400);
      expect(await balance('tess')).toBe(1250);
    });

    it('unknown customer 404; another currency than the account 409 naming it; nothing applied', async () => {
      const unknown = await topUp('nobody', { amount: 100, currency: 'EUR' });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
      const other = await topUp('tess', { amount: 100, currency: 'USD' });
      expect(other.statusCode).toBe(409);
      expect(other.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(other.json().detail).toMatch(/currency.*EUR.*USD/);
      expect(await balance('tess')).toBe(1250);
    });

    it('20 concurrent retries with one key add the money once; all 20 answers are the same 200 body', async () => {
      await account('uma', { balance: 500, currency: 'EUR' });
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => topUp('uma', { amount: 700, currency: 'EUR' }, 'top-up-uma-1')),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
      for (const a of answers) expect(a.json()).toEqual({ customerId: 'uma', balance: 1200, currency: 'EUR' });
      const replayed = answers.map((a) => a.headers['idempotent-replayed']);
      expect(replayed.filter((h) => h === undefined)).toHaveLength(1);
      expect(replayed.filter((h) => h === 'true')).toHaveLength(19);
      expect(await balance('uma')).toBe(1200);
      expect(await deposits('uma')).toBe(1);
    });

    it('the same key with another body or customer answers 422 problem+json and adds nothing', async () => {
      const otherAmount = await topUp('uma', { amount: 701, currency: 'EUR' }, 'top-up-uma-1');
      expect(otherAmount.statusCode).toBe(422);
      expect(otherAmount.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(otherAmount.json()).toMatchObject({ errors: [{ field: 'idempotency-key', in: 'headers' }] });
      expect((await topUp('tess', { amount: 700, currency: 'EUR' }, 'top-up-uma-1')).statusCode).toBe(422);
      expect(await balance('uma')).toBe(1200);
      expect(await balance('tess')).toBe(1250);
      // A refused top-up does not use its key up: after the account exists, the same key applies.
      expect((await topUp('vera', { amount: 10, currency: 'EUR' }, 'top-up-vera')).statusCode).toBe(404);
      await account('vera', { balance: 0, currency: 'EUR' });
      expect((await topUp('vera', { amount: 10, currency: 'EUR' }, 'top-up-vera')).json()).toMatchObject({
        balance: 10,
      });
    });

    it('the OpenAPI document has the route with its body, Idempotency-Key header and answers', async () => {
      const raw = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, { post: Record<string, unknown> }>;
        components: { schemas: Record<string, unknown> };
      };
      // Named schemas are components; follow the references.
      const doc = JSON.parse(JSON.stringify(raw), (_k, v) =>
        v && typeof v === 'object' && typeof v.$ref === 'string' && v.$ref.startsWith('#/components/schemas/')
          ? raw.components.schemas[v.$ref.replace('#/components/schemas/', '')]
          : v,
      ) as typeof raw;
      const op = doc.paths['/customers/{customerId}/top-up']!.post as {
        parameters: { name: string; in: string }[];
        requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } };
        responses: Record<string, unknown>;
      };
      expect(Object.keys(op.requestBody.content['application/json'].schema.properties).sort()).toEqual([
        'amount',
        'currency',
      ]);
      expect(op.parameters.map((p) => `${p.in}:${p.name}`)).toEqual(
        expect.arrayContaining(['path:customerId', 'header:idempotency-key']),
      );
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '404', '409', '422']));
    });
  });
});
