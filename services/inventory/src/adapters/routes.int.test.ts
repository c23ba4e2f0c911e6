import { randomUUID } from 'node:crypto';
import { type ServiceContext, signToken } from '@commerce/kernel';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEnvelope } from '../../../../test/support/consumers.js';
import { type ModuleServer, startModuleServer } from '../../../../test/support/moduleServer.js';
import { describeWith } from '../../../../test/support/services.js';
import { handleInventoryOrderEvent } from '../application/reserveStock.js';
import { inventoryService } from '../index.js';

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

  describe('admin audit routes', () => {
    it('stock movements and reservations: admin only', async () => {
      const orderId = randomUUID();
      await handleInventoryOrderEvent(ctx, {
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
