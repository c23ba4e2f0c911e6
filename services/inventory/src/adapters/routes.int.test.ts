import { randomUUID } from 'node:crypto';
import { type ServiceContext, signToken } from '@commerce/kernel';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEnvelope } from '../../../../test/support/consumers.js';
import { type ModuleServer, startModuleServer } from '../../../../test/support/moduleServer.js';
import { describeWith } from '../../../../test/support/services.js';
import { inventoryDeps, inventoryService } from '../index.js';
import { handleInventoryOrderEvent } from './consumer.js';

const SECRET = 'inventory-route-test-secret-0123456789abcdef';

describeWith(['postgres'], 'inventory HTTP routes (kernel createHttpServer)', () => {
  let server: ModuleServer;
  let app: FastifyInstance;
  let ctx: ServiceContext;
  const auth: Record<string, string> = {};

  beforeAll(async () => {
    server = await startModuleServer(inventoryService, {
      prefix: 'routes',
      secret: SECRET,
      settings: { reservationTtlMs: 60_000 },
    });
    ({ app, ctx } = server);
    for (const [name, sub, role] of [
      ['admin', 'ops', 'admin'],
      ['customer', 'cust-1', 'customer'],
    ] as const)
      auth[name] = `Bearer ${await signToken({ secret: SECRET, sub, role })}`;
  });
  afterAll(async () => {
    await server?.drop();
  });

  const put = (productId: string, payload: unknown, who = 'admin') =>
    app.inject({ method: 'PUT', url: `/products/${productId}`, headers: { authorization: auth[who]! }, payload });

  it('admin PUT creates and replaces a product: 200 with the SPEC §4 shape', async () => {
    const res = await put('pen-1', { name: 'Pen', unitPrice: 150, currency: 'EUR', stock: 10 });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      productId: 'pen-1',
      name: 'Pen',
      unitPrice: 150,
      currency: 'EUR',
      available: 10,
      reserved: 0,
      sold: 0,
    });
    const again = await put('pen-1', { name: 'Pen', unitPrice: 175, currency: 'EUR', stock: 4 });
    expect(again.json()).toMatchObject({ unitPrice: 175, available: 4 });
  });

  it('a customer may read but not write: PUT and restock answer 403', async () => {
    expect((await put('pen-1', { name: 'x', unitPrice: 1, currency: 'EUR', stock: 1 }, 'customer')).statusCode).toBe(
      403,
    );
    const restock = await app.inject({
      method: 'POST',
      url: '/products/pen-1/restock',
      headers: { authorization: auth.customer! },
      payload: { quantity: 1 },
    });
    expect(restock.statusCode).toBe(403);
    const read = await app.inject({
      method: 'GET',
      url: '/products/pen-1',
      headers: { authorization: auth.customer! },
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ productId: 'pen-1', available: 4 });
  });

  it('no token: 401 problem+json', async () => {
    const res = await app.inject({ method: 'GET', url: '/products/pen-1' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('bad bodies answer 400 naming each bad field', async () => {
    const res = await put('pen-2', { name: '', unitPrice: 1.5, currency: 'XXX', stock: -1 });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const fields = (res.json() as { errors: { field: string }[] }).errors.map((e) => e.field).sort();
    expect(fields).toEqual(['/currency', '/name', '/stock', '/unitPrice']);
    const restock = await app.inject({
      method: 'POST',
      url: '/products/pen-1/restock',
      headers: { authorization: auth.admin! },
      payload: { quantity: 1_000_001 },
    });
    expect(restock.statusCode).toBe(400);
    expect((restock.json() as { errors: { field: string }[] }).errors[0]?.field).toBe('/quantity');
    const badId = await app.inject({
      method: 'GET',
      url: '/products/bad%20id',
      headers: { authorization: auth.admin! },
    });
    expect(badId.statusCode).toBe(400);
  });

  it('restock adds stock; unknown products answer 404', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/products/pen-1/restock',
      headers: { authorization: auth.admin! },
      payload: { quantity: 6 },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ available: 10 });
    const missing = await app.inject({
      method: 'POST',
      url: '/products/ghost/restock',
      headers: { authorization: auth.admin! },
      payload: { quantity: 6 },
    });
    expect(missing.statusCode).toBe(404);
    expect(
      (await app.inject({ method: 'GET', url: '/products/ghost', headers: { authorization: auth.admin! } })).statusCode,
    ).toBe(404);
  });

  it('GET /products pages with limit and an opaque cursor', async () => {
    for (const id of ['a-1', 'a-2', 'a-3']) await put(id, { name: id, unitPrice: 1, currency: 'EUR', stock: 1 });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/products?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await app.inject({ method: 'GET', url, headers: { authorization: auth.customer! } });
      expect(res.statusCode).toBe(200);
      const page = res.json() as { items: { productId: string }[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((p) => p.productId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['a-1', 'a-2', 'a-3', 'pen-1']);
    const bad = await app.inject({
      method: 'GET',
      url: '/products?cursor=zzz',
      headers: { authorization: auth.customer! },
    });
    expect(bad.statusCode).toBe(400);
    const badLimit = await app.inject({
      method: 'GET',
      url: '/products?limit=0',
      headers: { authorization: auth.customer! },
    });
    expect(badLimit.statusCode).toBe(400);
  });

  describe('restock with an Idempotency-Key', () => {
    const restock = (productId: string, quantity: number, key?: string) =>
      app.inject({
        method: 'POST',
        url: `/products/${productId}/restock`,
        headers: { authorization: auth.admin!, ...(key === undefined ? {} : { 'idempotency-key': key }) },
        payload: { quantity },
      });
    const available = async (productId: string) =>
      (
        (
          await app.inject({ method: 'GET', url: `/products/${productId}`, headers: { authorization: auth.admin! } })
        ).json() as { available: number }
      ).available;
    const restocks = async (productId: string) =>
      (
        await ctx.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM stock_movements WHERE product_id = $1 AND kind = 'restock'",
          [productId],
        )
      ).rows[0]?.n;

    it('20 concurrent retries with one key add the stock once; all 20 answers are the same 200 body', async () => {
      await put('bolt-1', { name: 'Bolt', unitPrice: 20, currency: 'EUR', stock: 10 });
      const answers = await Promise.all(Array.from({ length: 20 }, () => restock('bolt-1', 3, 'restock-bolt-1')));
      expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
      const bodies = answers.map((a) => a.json());
      for (const b of bodies) expect(b).toEqual(bodies[0]);
      expect(bodies[0]).toMatchObject({ productId: 'bolt-1', available: 13 });
      // One answer applied it; the 19 others replayed it and say so.
      const replayed = answers.map((a) => a.headers['idempotent-replayed']);
      expect(replayed.filter((h) => h === undefined)).toHaveLength(1);
      expect(replayed.filter((h) => h === 'true')).toHaveLength(19);
      expect(await available('bolt-1')).toBe(13);
      expect(await restocks('bolt-1')).toBe(1);
      // A retry later still answers the first result, and still adds nothing.
      const later = await restock('bolt-1', 3, 'restock-bolt-1');
      expect(later.json()).toEqual(bodies[0]);
      expect(await available('bolt-1')).toBe(13);
      // Without a key every call is a new restock.
      await restock('bolt-1', 1);
      await restock('bolt-1', 1);
      expect(await available('bolt-1')).toBe(15);
    });

    it('the same key with another body or another product answers 422 problem+json and adds nothing', async () => {
      await put('bolt-2', { name: 'Bolt 2', unitPrice: 20, currency: 'EUR', stock: 5 });
      expect((await restock('bolt-2', 2, 'restock-bolt-2')).statusCode).toBe(200);
      const otherBody = await restock('bolt-2', 4, 'restock-bolt-2');
      expect(otherBody.statusCode).toBe(422);
      expect(otherBody.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(otherBody.json()).toMatchObject({
        status: 422,
        detail: expect.stringMatching(/Idempotency-Key/),
        errors: [{ field: 'idempotency-key', in: 'headers' }],
      });
      const otherProduct = await restock('bolt-1', 2, 'restock-bolt-2');
      expect(otherProduct.statusCode).toBe(422);
      expect(await available('bolt-2')).toBe(7);
      expect(await available('bolt-1')).toBe(15);
    });

    it('an unknown product answers 404 and does not use the key up; a bad key answers 400 naming it', async () => {
      expect((await restock('bolt-3', 2, 'restock-bolt-3')).statusCode).toBe(404);
      await put('bolt-3', { name: 'Bolt 3', unitPrice: 20, currency: 'EUR', stock: 0 });
      const now = await restock('bolt-3', 2, 'restock-bolt-3');
      expect(now.statusCode).toBe(200);
      expect(now.headers['idempotent-replayed']).toBeUndefined();
      expect(await available('bolt-3')).toBe(2);
      const tooLong = await restock('bolt-3', 2, 'k'.repeat(256));
      expect(tooLong.statusCode).toBe(400);
      expect((tooLong.json() as { errors: { field: string }[] }).errors[0]?.field).toBe('/idempotency-key');
      expect(await available('bolt-3')).toBe(2);
    });

    it('the OpenAPI document declares the Idempotency-Key header and the 422 of restock', async () => {
      const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, { post: { parameters: { name: string; in: string }[]; responses: object } }>;
      };
      const op = doc.paths['/products/{productId}/restock']!.post;
      expect(op.parameters.map((p) => `${p.in}:${p.name}`)).toContain('header:idempotency-key');
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '404', '422']));
    });
  });

  describe('admin audit routes', () => {
    it('stock movements and reservations: admin only', async () => {
      const orderId = randomUUID();
      await handleInventoryOrderEvent(inventoryDeps(ctx), ctx, {
        envelope: orderEnvelope('ORDER_CREATED', orderId, {
          customerId: 'cust-1',
          currency: 'EUR',
          items: [{ productId: 'pen-1', quantity: 2, unitPrice: 175 }],
          totalAmount: 350,
        }),
      });
      const mv = await app.inject({
        method: 'GET',
        url: `/admin/stock-movements?orderId=${orderId}`,
        headers: { authorization: auth.admin! },
      });
      expect(mv.statusCode).toBe(200);
      expect((mv.json() as { items: unknown[] }).items).toEqual([
        expect.objectContaining({
          productId: 'pen-1',
          orderId,
          kind: 'reservation',
          deltaAvailable: -2,
          deltaReserved: 2,
        }),
      ]);
      const byProduct = await app.inject({
        method: 'GET',
        url: '/admin/stock-movements?productId=pen-1',
        headers: { authorization: auth.admin! },
      });
      expect((byProduct.json() as { items: { kind: string }[] }).items.map((m) => m.kind)).toEqual([
        'set',
        'set',
        'restock',
        'reservation',
      ]);
      const r = await app.inject({
        method: 'GET',
        url: `/admin/reservations/${orderId}`,
        headers: { authorization: auth.admin! },
      });
      expect(r.json()).toMatchObject({ orderId, status: 'RESERVED', rollbackMarker: false });
      for (const url of [`/admin/reservations/${orderId}`, '/admin/stock-movements'])
        expect((await app.inject({ method: 'GET', url, headers: { authorization: auth.customer! } })).statusCode).toBe(
          403,
        );
      expect(
        (
          await app.inject({
            method: 'GET',
            url: `/admin/reservations/${randomUUID()}`,
            headers: { authorization: auth.admin! },
          })
        ).statusCode,
      ).toBe(404);
    });
  });
});
