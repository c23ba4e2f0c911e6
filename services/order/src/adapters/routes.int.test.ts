import { IdempotencyKeyRetention } from '@commerce/kernel';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../../../../test/support/services.js';
import { type OrderHarness, orderHarness } from '../../test-fixtures/harness.js';

const items = [
  { productId: 'sku-1', quantity: 3, unitPrice: 1999 },
  { productId: 'sku-2', quantity: 1, unitPrice: 500 },
];
const body = (over: Record<string, unknown> = {}) => ({ customerId: 'alice', currency: 'EUR', items, ...over });

describeWith(['postgres'], 'order API on PostgreSQL', () => {
  let h: OrderHarness;
  let alice: string;
  let bob: string;
  let admin: string;
  beforeAll(async () => {
    h = await orderHarness();
    alice = await h.token('alice');
    bob = await h.token('bob');
    admin = await h.token('ops', 'admin');
  });
  afterAll(async () => {
    await h?.close();
  });
  const post = (payload: unknown, token = alice, headers: Record<string, string> = {}) =>
    h.app.inject({
      method: 'POST',
      url: '/orders',
      payload: payload as object,
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  const get = (url: string, token = alice) =>
    h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('create → 202 + Location; get → PENDING with the total; events → [ORDER_CREATED]', async () => {
    const res = await post(body());
    expect(res.statusCode).toBe(202);
    const order = res.json();
    expect(res.headers.location).toBe(`/orders/${order.orderId}`);
    expect(order).toMatchObject({ status: 'PENDING', customerId: 'alice', totalAmount: 3 * 1999 + 500, version: 1 });

    const got = await get(`/orders/${order.orderId}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({
      orderId: order.orderId,
      status: 'PENDING',
      currency: 'EUR',
      items,
      totalAmount: 6497,
      inventory: { status: 'PENDING' },
      payment: { status: 'PENDING' },
      reasons: [],
    });
    expect(Date.parse(got.json().createdAt)).not.toBeNaN();
    // The 202 answer is built from the state just projected: it must be exactly what the row reads back.
    expect(order).toEqual(got.json());

    const events = await get(`/orders/${order.orderId}/events`);
    expect(events.statusCode).toBe(200);
    expect(events.json()).toEqual([
      {
        eventId: expect.any(String),
        type: 'ORDER_CREATED',
        version: 1,
        // Stored at the current version of ORDER_CREATED's data (application/eventVersions.ts).
        schemaVersion: 2,
        occurredAt: expect.any(String),
        data: { customerId: 'alice', currency: 'EUR', items, totalAmount: 6497 },
      },
    ]);
    // the deadline and the outbox row were written in the same transaction
    const dl = await h.db.query('SELECT kind FROM saga_deadlines WHERE order_id = $1', [order.orderId]);
    expect(dl.rows).toEqual([{ kind: 'saga' }]);
    const ob = await h.db.query<{ routing_key: string }>(
      "SELECT routing_key FROM outbox WHERE envelope->>'orderId' = $1",
      [order.orderId],
    );
    expect(ob.rows.map((r) => r.routing_key)).toEqual(['order.created']);
  });

  it('unknown id → 404 problem; malformed id → 400 naming orderId; no token → 401', async () => {
    const unknown = await get('/orders/7d3c1a2b-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(unknown.json()).toMatchObject({ status: 404, title: 'Not Found' });
    const bad = await get('/orders/not-a-uuid');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([expect.objectContaining({ field: '/orderId' })]);
    const anon = await h.app.inject({ method: 'GET', url: '/orders' });
    expect(anon.statusCode).toBe(401);
  });

  it.each([
    ['empty items', body({ items: [] }), '/items'],
    [
      'more than 100 items',
      body({ items: Array.from({ length: 101 }, (_, i) => ({ productId: `p${i}`, quantity: 1, unitPrice: 1 })) }),
      '/items',
    ],
    ['duplicate productIds', body({ items: [items[0], { ...items[0], quantity: 2 }] }), '/items/1/productId'],
    ['quantity 0', body({ items: [{ productId: 'p', quantity: 0, unitPrice: 1 }] }), '/items/0/quantity'],
    ['quantity over 1000', body({ items: [{ productId: 'p', quantity: 1001, unitPrice: 1 }] }), '/items/0/quantity'],
    ['a negative price', body({ items: [{ productId: 'p', quantity: 1, unitPrice: -5 }] }), '/items/0/unitPrice'],
    ['a non-integer price', body({ items: [{ productId: 'p', quantity: 1, unitPrice: 9.99 }] }), '/items/0/unitPrice'],
    [
      'a price given as a string',
      body({ items: [{ productId: 'p', quantity: 1, unitPrice: '5' }] }),
      '/items/0/unitPrice',
    ],
    [
      'a total that overflows',
      body({
        items: [
          { productId: 'a', quantity: 1000, unitPrice: 1_000_000_000_000 },
          { productId: 'b', quantity: 1000, unitPrice: 1_000_000_000_000 },
        ],
      }),
      '/items',
    ],
    ['an unknown currency', body({ currency: 'XYZ' }), '/currency'],
    ['a customerId outside the pattern', body({ customerId: 'alice smith' }), '/customerId'],
    [
      'a productId outside the pattern',
      body({ items: [{ productId: 'p/1', quantity: 1, unitPrice: 1 }] }),
      '/items/0/productId',
    ],
    ['an extra field', body({ discount: 10 }), '/discount'],
    ['an extra item field', body({ items: [{ ...items[0], note: 'x' }] }), '/items/0/note'],
  ])('%s → 400 naming the field', async (_name, payload, field) => {
    const token = (payload as { customerId: string }).customerId === 'alice' ? alice : admin;
    const res = await post(payload, token);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const fields = (res.json().errors as { field: string }[]).map((e) => e.field);
    expect(fields.some((f) => f === field || f.startsWith(`${field}/`))).toBe(true);
  });

  it('names several bad fields at once', async () => {
    const res = await post(body({ currency: 'XYZ', items: [{ productId: 'p', quantity: 0, unitPrice: -1 }] }));
    expect(res.statusCode).toBe(400);
    const fields = (res.json().errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['/currency', '/items/0/quantity', '/items/0/unitPrice']));
  });

  it('wrong content type → 415, malformed JSON → 400, 2 MiB body → 413', async () => {
    const text = await h.app.inject({
      method: 'POST',
      url: '/orders',
      payload: 'customerId=alice',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(text.statusCode).toBe(415);
    const broken = await h.app.inject({
      method: 'POST',
      url: '/orders',
      payload: '{"customerId":',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    });
    expect(broken.statusCode).toBe(400);
    const huge = await h.app.inject({
      method: 'POST',
      url: '/orders',
      payload: JSON.stringify({ ...body(), pad: 'x'.repeat(2 * 1024 * 1024) }),
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('a customer cannot order for someone else (403); an admin can', async () => {
    const res = await post(body({ customerId: 'bob' }), alice);
    expect(res.statusCode).toBe(403);
    const byAdmin = await post(body({ customerId: 'bob' }), admin);
    expect(byAdmin.statusCode).toBe(202);
    expect(byAdmin.json().customerId).toBe('bob');
  });

  it('customer B gets 404 on A’s order (read, events, cancel); admin sees it', async () => {
    const order = (await post(body())).json();
    for (const url of [`/orders/${order.orderId}`, `/orders/${order.orderId}/events`])
      expect((await get(url, bob)).statusCode).toBe(404);
    const cancel = await h.app.inject({
      method: 'POST',
      url: `/orders/${order.orderId}/cancel`,
      headers: { authorization: `Bearer ${bob}` },
    });
    expect(cancel.statusCode).toBe(404);
    expect((await get(`/orders/${order.orderId}`, admin)).statusCode).toBe(200);
  });

  it('50 concurrent POSTs with the same Idempotency-Key and body → one order, all 50 answers carry its id', async () => {
    const key = `key-${Date.now()}`;
    const payload = body({ customerId: 'carol' });
    const carol = await h.token('carol');
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => post(payload, carol, { 'idempotency-key': key })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(50).fill(202));
    const ids = new Set(answers.map((a) => a.json().orderId));
    expect(ids.size).toBe(1);
    // The first answer is the order's creation; every retry says it is a replay of it.
    const replayed = answers.map((a) => a.headers['idempotent-replayed']);
    expect(replayed.filter((h) => h === undefined)).toHaveLength(1);
    expect(replayed.filter((h) => h === 'true')).toHaveLength(49);
    for (const a of answers) expect(a.headers.location).toBe(`/orders/${[...ids][0]}`);
    const count = await h.db.query<{ n: string }>("SELECT count(*) AS n FROM orders WHERE customer_id = 'carol'");
    expect(Number(count.rows[0]?.n)).toBe(1);
    const created = await h.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM events WHERE event_type = 'ORDER_CREATED' AND data->>'customerId' = 'carol'",
    );
    expect(Number(created.rows[0]?.n)).toBe(1);

    const other = await post({ ...payload, currency: 'USD' }, carol, { 'idempotency-key': key });
    expect(other.statusCode).toBe(422);
    expect(other.json().detail).toMatch(/Idempotency-Key/);
    // another caller's same key is its own scope
    const dave = await h.token('dave');
    const daves = await post(body({ customerId: 'dave' }), dave, { 'idempotency-key': key });
    expect(daves.statusCode).toBe(202);
    expect(daves.json().orderId).not.toBe([...ids][0]);
  });

  it('a replayed POST /orders carries Idempotent-Replayed: true; a first answer or a keyless one does not', async () => {
    const key = `replay-${Date.now()}`;
    const first = await post(body(), alice, { 'idempotency-key': key });
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await post(body(), alice, { 'idempotency-key': key });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect((await post(body())).headers['idempotent-replayed']).toBeUndefined();
    const tooLong = await post(body(), alice, { 'idempotency-key': 'k'.repeat(256) });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().errors[0]).toMatchObject({ field: '/idempotency-key', in: 'headers' });
  });

  it('a key older than IDEMPOTENCY_KEY_RETENTION_MS is pruned: the same key with another body then makes a new order', async () => {
    const key = `old-${Date.now()}`;
    const first = await post(body(), alice, { 'idempotency-key': key });
    expect(first.statusCode).toBe(202);
    expect((await post(body({ currency: 'USD' }), alice, { 'idempotency-key': key })).statusCode).toBe(422);
    // The key was used 25 hours before the prune's `now`; the retention is the default 24 h.
    const usedAt = new Date('2030-01-01T00:00:00Z');
    await h.db.query('UPDATE idempotency_keys SET created_at = $3 WHERE scope = $1 AND idempotency_key = $2', [
      'alice',
      key,
      usedAt,
    ]);
    const retention = new IdempotencyKeyRetention({
      db: h.db,
      log: h.ctx.log,
      retentionMs: h.ctx.settings.idempotencyKeyRetentionMs,
      now: () => new Date(usedAt.getTime() + 25 * 3_600_000),
    });
    expect(await retention.sweep()).toBeGreaterThanOrEqual(1);
    const row = await h.db.query('SELECT 1 FROM idempotency_keys WHERE scope = $1 AND idempotency_key = $2', [
      'alice',
      key,
    ]);
    expect(row.rows).toHaveLength(0);
    const fresh = await post(body({ currency: 'USD' }), alice, { 'idempotency-key': key });
    expect(fresh.statusCode).toBe(202);
    expect(fresh.headers['idempotent-replayed']).toBeUndefined();
    expect(fresh.json().orderId).not.toBe(first.json().orderId);
    expect(fresh.json().currency).toBe('USD');
  });

  it('lists newest first, own orders only for customers, with filters and cursor paging', async () => {
    const erin = await h.token('erin');
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await post(body({ customerId: 'erin' }), erin)).json().orderId);
    const all = (await get('/orders?limit=100', erin)).json().items as { orderId: string; createdAt: string }[];
    expect(new Set(all.map((o) => o.orderId))).toEqual(new Set(made));
    // newest first (ties on the same millisecond broken by orderId, descending)
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1]!, all[i]!];
      expect(a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.orderId > b.orderId)).toBe(true);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await get(`/orders?limit=2${cursor ? `&cursor=${cursor}` : ''}`, erin);
      expect(page.json().items.length).toBeLessThanOrEqual(2);
      seen.push(...page.json().items.map((o: { orderId: string }) => o.orderId));
      cursor = page.json().nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(all.map((o) => o.orderId));

    // a customer asking for someone else's orders sees none of them
    expect((await get('/orders?customerId=alice', erin)).json().items).toEqual([]);
    // admin filters
    const byCustomer = await get('/orders?customerId=erin&limit=100', admin);
    expect(byCustomer.json().items).toHaveLength(5);
    await h.app.inject({
      method: 'POST',
      url: `/orders/${made[0]}/cancel`,
      headers: { authorization: `Bearer ${erin}` },
    });
    const cancelled = await get('/orders?customerId=erin&status=COMPENSATION_PENDING', admin);
    expect(cancelled.json().items.map((o: { orderId: string }) => o.orderId)).toEqual([made[0]]);
    const pending = await get('/orders?status=PENDING&limit=100', admin);
    expect(pending.json().items.every((o: { status: string }) => o.status === 'PENDING')).toBe(true);

    for (const bad of ['limit=0', 'limit=101', 'status=LOST', 'cursor=nonsense'])
      expect((await get(`/orders?${bad}`, admin)).statusCode, bad).toBe(400);
  });

  it('cancel: 202 for PENDING (compensation requested), 409 once not cancellable', async () => {
    const order = (await post(body())).json();
    const cancel = () =>
      h.app.inject({
        method: 'POST',
        url: `/orders/${order.orderId}/cancel`,
        headers: { authorization: `Bearer ${alice}` },
      });
    const first = await cancel();
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ status: 'COMPENSATION_PENDING', reasons: ['CANCELLED_BY_CUSTOMER'] });
    const types = (await get(`/orders/${order.orderId}/events`)).json().map((e: { type: string }) => e.type);
    expect(types).toEqual([
      'ORDER_CREATED',
      'ORDER_CANCELLED',
      'ORDER_COMPENSATION_STARTED',
      'ORDER_PAYMENT_ROLLBACK_REQUESTED',
      'ORDER_INVENTORY_ROLLBACK_REQUESTED',
    ]);
    const again = await cancel();
    expect(again.statusCode).toBe(409);
    expect(again.json().title).toBe('Conflict');
  });

  it('admin routes: stats per status; retry-compensation 409 unless COMPENSATION_FAILED; customers 403', async () => {
    const stats = await get('/admin/orders/stats', admin);
    expect(stats.statusCode).toBe(200);
    const rows = await h.db.query<{ n: string }>('SELECT count(*) AS n FROM orders');
    expect(stats.json().total).toBe(Number(rows.rows[0]?.n));
    expect(stats.json().byStatus.PENDING).toBeGreaterThan(0);
    expect((await get('/admin/orders/stats', alice)).statusCode).toBe(403);
    const order = (await post(body())).json();
    const retry = await h.app.inject({
      method: 'POST',
      url: `/admin/orders/${order.orderId}/retry-compensation`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(retry.statusCode).toBe(409);
  });

  it('/asyncapi.json is the AsyncAPI 3.0 document of the events, public, with the partitioned saga queues', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/asyncapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.asyncapi).toBe('3.0.0');
    const addresses = Object.values(doc.channels as Record<string, { address: string }>).map((c) => c.address);
    expect(addresses).toEqual(expect.arrayContaining(['order.created', 'order.saga.p{partition}', 'order.saga.dlq']));
    expect(doc.components.parameters.partition.enum).toHaveLength(h.ctx.settings.orderPartitions);
  });

  it('/openapi.json is an OpenAPI 3 document with every route and its schemas', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    // Named schemas are components; follow the references.
    const deref = (node: { $ref?: string }) =>
      node.$ref ? doc.components.schemas[node.$ref.replace('#/components/schemas/', '')] : node;
    const p = JSON.parse(JSON.stringify(doc.paths), (_k, v) =>
      v && typeof v === 'object' && v.$ref?.startsWith('#/components/schemas/') ? deref(v) : v,
    );
    expect(p['/orders'].post.requestBody.content['application/json'].schema.properties).toHaveProperty('items');
    expect(p['/orders'].post.responses['202'].content['application/json'].schema.properties).toHaveProperty(
      'totalAmount',
    );
    expect(p['/orders'].post.parameters.map((x: { name: string }) => x.name)).toContain('idempotency-key');
    expect(p['/orders'].get.parameters.map((x: { name: string }) => x.name)).toEqual(
      expect.arrayContaining(['customerId', 'status', 'limit', 'cursor']),
    );
    expect(p['/orders'].get.responses['200'].content['application/json'].schema.properties).toHaveProperty(
      'nextCursor',
    );
    for (const path of ['/orders/{orderId}', '/orders/{orderId}/events'])
      expect(p[path].get.responses['200'].content['application/json'].schema).toBeDefined();
    expect(p['/orders/{orderId}/cancel'].post.responses['202']).toBeDefined();
    expect(p['/admin/orders/{orderId}/retry-compensation'].post.responses['202']).toBeDefined();
    expect(p['/admin/orders/stats'].get.responses['200']).toBeDefined();
    expect(p['/orders/{orderId}'].get.responses['404']).toBeDefined();
  });
});
