import { inventoryService } from '@commerce/inventory';
import { type Database, type RegisteredRoute, registeredRoutes, type ServiceModule } from '@commerce/kernel';
import { orderService } from '@commerce/order';
import { paymentService } from '@commerce/payment';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { algNoneToken, makeTokens, TEST_SECRET, type Tokens } from '../security/fixtures.js';
import { type ModuleServer, startModuleServer } from '../support/moduleServer.js';
import { describeWith } from '../support/services.js';

type Running = ModuleServer;

const startService = (module: ServiceModule) => startModuleServer(module, { prefix: 'badinput', secret: TEST_SECRET });

/** Row count and a checksum of every row of every table: equal snapshots mean nothing changed. */
async function snapshot(db: Database): Promise<Record<string, string>> {
  const tables = (
    await db.query<{ t: string }>(
      `SELECT quote_ident(table_name) AS t FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    )
  ).rows.map((r) => r.t);
  const out: Record<string, string> = {};
  for (const t of tables) {
    // Table names come from the catalogue (quote_ident), never from input.
    const r = await db.query<{ n: number; sum: string | null }>(
      `SELECT count(*)::int AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS sum FROM ${t} x`,
    );
    out[t] = `${r.rows[0]?.n}:${r.rows[0]?.sum ?? '-'}`;
  }
  return out;
}

// Values that must never get through (or break anything) as an id, in a path or a body.
const BAD_IDS = [
  "' OR '1'='1",
  "x'; DROP TABLE orders; --",
  '1 UNION SELECT password FROM users',
  'ünïcødé-ß',
  '🙂🙂',
  'a\u0000b',
  'line\nbreak',
  'tab\there',
  '\u202Eevil',
  '../../etc/passwd',
  'a'.repeat(65),
  'a'.repeat(5000),
  '',
  ' ',
  '%',
];
const BAD_PATH_SEGMENTS = [
  ...BAD_IDS.filter((s) => s !== '').map((s) => encodeURIComponent(s)),
  '%ZZ', // broken percent-encoding
  '%00',
  '%E0%A4%A', // truncated UTF-8
  '..%2F..%2F',
  '00000000-0000-0000-0000-00000000000g',
  '9223372036854775808',
  '1e400',
];
// Raw JSON numbers: JSON.stringify cannot write these, so they go in as text.
const HUGE_NUMBERS = ['1e400', '-1e400', '9223372036854775808', '18446744073709551616', '1.5', '-1', '1e-400', '0x10'];

/** Bodies that are wrong for every route taking a body: not JSON, wrong shapes, wrong types. */
const MALFORMED_BODIES = [
  '{"customerId": "cust-a", ',
  '{',
  'null',
  '[]',
  '"a string"',
  '42',
  'true',
  '{"__proto__": {"admin": true}}',
  '{"constructor": {"prototype": {"x": 1}}}',
  `{"a": ${'['.repeat(5000)}${']'.repeat(5000)}}`,
  '\u0000',
  '{"a": "\\ud800"}',
];

interface BadRequest {
  what: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  /** The "bad" value happens to be valid here (e.g. `1e400` is a well-formed productId): acceptance is fine. */
  legit?: boolean;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
/** A raw JSON value that a field could legitimately hold: a well-formed id or a non-negative safe integer. */
function plausible(raw: string): boolean {
  try {
    const v = JSON.parse(raw) as unknown;
    return (typeof v === 'string' && ID.test(v)) || (Number.isSafeInteger(v) && (v as number) >= 0);
  } catch {
    return false;
  }
}

function parses(raw: string): boolean {
  try {
    JSON.parse(raw);
    return true;
  } catch {
    return false;
  }
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

describeWith(['postgres'], 'bad-input sweep over every route of order, inventory and payment', () => {
  let services: Running[] = [];
  let tokens: Tokens;
  let orderOfA: string;

  beforeAll(async () => {
    tokens = await makeTokens();
    services = await Promise.all([
      startService(orderService),
      startService(inventoryService),
      startService(paymentService),
    ]);
    const [order, inventory, payment] = services as [Running, Running, Running];
    const admin = { authorization: `Bearer ${tokens.admin}` };
    const ok = async (app: FastifyInstance, method: 'PUT' | 'POST', url: string, payload: object, code = 200) => {
      const res = await app.inject({ method, url, headers: admin, payload });
      expect(res.statusCode, res.body).toBe(code);
      return res.json() as Record<string, string>;
    };
    await ok(inventory.app, 'PUT', '/products/pen-1', { name: 'Pen', unitPrice: 150, currency: 'EUR', stock: 100 });
    await ok(payment.app, 'PUT', '/customers/cust-a', { balance: 100_000, currency: 'EUR' });
    orderOfA = (
      await ok(
        order.app,
        'POST',
        '/orders',
        { customerId: 'cust-a', currency: 'EUR', items: [{ productId: 'pen-1', quantity: 2, unitPrice: 150 }] },
        202,
      )
    ).orderId!;
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.drop()));
  });

  /** Valid values for a route's path parameters (so that only the part under test is wrong). */
  function goodParam(name: string): string {
    if (name === 'orderId') return orderOfA;
    if (name === 'productId') return 'pen-1';
    if (name === 'customerId') return 'cust-a';
    return 'x';
  }
  function fillPath(url: string, override?: { param: string; value: string }): string {
    return url.replace(/:([A-Za-z]+)/g, (_, p: string) => (override?.param === p ? override.value : goodParam(p)));
  }
  /** A body that would be accepted, per route, to mutate one field of. */
  function goodBody(route: RegisteredRoute): Record<string, unknown> | undefined {
    const key = `${route.method} ${route.url}`;
    if (key === 'POST /orders')
      return { customerId: 'cust-a', currency: 'EUR', items: [{ productId: 'pen-1', quantity: 1, unitPrice: 150 }] };
    if (key === 'PUT /products/:productId') return { name: 'Pen', unitPrice: 150, currency: 'EUR', stock: 100 };
    if (key === 'POST /products/:productId/restock') return { quantity: 1 };
    if (key === 'PUT /customers/:customerId') return { balance: 100_000, currency: 'EUR' };
    return undefined;
  }

  function routesOf(s: Running): RegisteredRoute[] {
    return registeredRoutes(s.app).filter((r) => r.method !== 'HEAD' && !r.docs);
  }

  /** Every answer: no 5xx; every error a problem document whose status matches. */
  function checkAnswer(what: string, a: Answer, problems: string[]) {
    if (a.status >= 500) problems.push(`${what}: ${a.status} ${a.body.slice(0, 200)}`);
    if (a.status >= 400) {
      if (!a.contentType.startsWith('application/problem+json'))
        problems.push(`${what}: ${a.status} with content-type ${a.contentType}`);
      let doc: Record<string, unknown> = {};
      try {
        doc = JSON.parse(a.body);
      } catch {
        problems.push(`${what}: ${a.status} body is not JSON: ${a.body.slice(0, 100)}`);
      }
      for (const f of ['type', 'title', 'status', 'detail'])
        if (doc[f] === undefined || doc[f] === '') problems.push(`${what}: problem document without ${f}`);
      if (doc.status !== undefined && doc.status !== a.status)
        problems.push(`${what}: problem status ${doc.status} but HTTP ${a.status}`);
    }
  }

  async function send(
    s: Running,
    method: string,
    url: string,
    headers: Record<string, string>,
    payload?: string,
  ): Promise<Answer> {
    const res = await s.app.inject({
      method: method as 'GET',
      url,
      headers: payload === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(payload === undefined ? {} : { payload }),
    });
    return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: res.body };
  }

  /**
   * Runs a batch of bad requests against one service. Every answer is checked; a request that changes something
   * must have been accepted (2xx): after each rejected write the database is compared with the snapshot before it.
   * Returns the requests that were accepted, for the caller to judge.
   */
  async function sweep(
    s: Running,
    requests: BadRequest[],
  ): Promise<{ sent: number; problems: string[]; accepted: string[] }> {
    let baseline = await snapshot(s.db);
    const problems: string[] = [];
    const accepted: string[] = [];
    for (const r of requests) {
      const a = await send(s, r.method, r.url, r.headers, r.payload);
      checkAnswer(`${s.name} ${r.what}`, a, problems);
      if (a.status < 400) {
        accepted.push(`${r.what} → ${a.status}`);
        if (!r.legit) problems.push(`${s.name} ${r.what}: accepted with ${a.status}: ${a.body.slice(0, 200)}`);
      }
      if (r.method === 'GET' && a.status < 400) continue;
      const after = await snapshot(s.db);
      if (a.status >= 400 && JSON.stringify(after) !== JSON.stringify(baseline))
        problems.push(`${s.name} ${r.what}: rejected with ${a.status} but the database changed`);
      baseline = after;
    }
    return { sent: requests.length, problems, accepted };
  }

  const admin = () => ({ authorization: `Bearer ${tokens.admin}` });

  it('bad path parameters and query strings on every route', async () => {
    let total = 0;
    const problems: string[] = [];
    for (const s of services) {
      const requests: BadRequest[] = [];
      for (const route of routesOf(s)) {
        const params = [...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
        const body = goodBody(route);
        for (const param of params)
          for (const value of BAD_PATH_SEGMENTS)
            requests.push({
              what: `${route.method} ${route.url} with ${param}=${value.slice(0, 40)}`,
              method: route.method,
              url: fillPath(route.url, { param, value }),
              headers: admin(),
              payload: body ? JSON.stringify(body) : undefined,
              legit: param !== 'orderId' && ID.test(decoded(value)),
            });
        if (route.method === 'GET' && params.length === 0 && !route.url.startsWith('/health'))
          for (const q of [
            'limit=abc',
            'limit=0',
            'limit=1e400',
            'limit=9223372036854775808',
            'limit=-1',
            'cursor=%ZZ',
            'cursor=not-a-cursor',
            `cursor=${encodeURIComponent("' OR 1=1 --")}`,
            `customerId=${encodeURIComponent("' OR 1=1 --")}`,
            `status=${encodeURIComponent("PENDING' OR '1'='1")}`,
            `productId=${encodeURIComponent('a\u0000b')}`,
            `orderId=${encodeURIComponent('1; DROP TABLE events')}`,
          ])
            requests.push({
              what: `GET ${route.url}?${q}`,
              method: 'GET',
              url: `${route.url}?${q}`,
              headers: admin(),
              // Routes without paging ignore these parameters.
              legit: !['/orders', '/products', '/admin/stock-movements', '/admin/money-movements'].includes(route.url),
            });
      }
      const r = await sweep(s, requests);
      problems.push(...r.problems);
      total += r.sent;
    }
    expect(problems).toEqual([]);
    expect(total).toBeGreaterThan(200);
  });

  it('malformed JSON, wrong types, huge numbers and bad ids in bodies, oversized bodies', async () => {
    let total = 0;
    const problems: string[] = [];
    for (const s of services) {
      const requests: BadRequest[] = [];
      for (const route of routesOf(s)) {
        if (route.method !== 'POST' && route.method !== 'PUT') continue;
        const url = fillPath(route.url);
        const good = goodBody(route);
        const label = `${route.method} ${route.url}`;
        for (const raw of MALFORMED_BODIES)
          requests.push({
            what: `${label} body ${raw.slice(0, 30)}`,
            method: route.method,
            url,
            headers: admin(),
            payload: raw,
            // A route that takes no body ignores a well-formed one.
            legit: !good && parses(raw),
          });
        // Not JSON at all, declared as something else.
        requests.push({
          what: `${label} text/plain`,
          method: route.method,
          url,
          headers: { ...admin(), 'content-type': 'text/plain' },
          payload: 'hello',
        });
        // Over 1 MiB: 413.
        requests.push({
          what: `${label} 1.5 MiB body`,
          method: route.method,
          url,
          headers: admin(),
          payload: JSON.stringify({ ...good, padding: 'x'.repeat(1_572_864) }),
        });
        if (!good) continue;
        // Every field: wrong types, huge numbers, bad ids, and missing.
        const fields = Object.keys(good);
        const mutate = (field: string, raw: string) => {
          const text = JSON.stringify({ ...good, [field]: '__HOLE__' }).replace('"__HOLE__"', raw);
          requests.push({
            what: `${label} ${field}=${raw.slice(0, 30)}`,
            method: route.method,
            url,
            headers: admin(),
            payload: text,
            // A name is free text; ids and amounts must be well formed.
            legit: plausible(raw) || (field === 'name' && raw.startsWith('"') && raw !== '""'),
          });
        };
        for (const field of fields) {
          for (const raw of HUGE_NUMBERS) mutate(field, raw);
          for (const raw of ['null', 'true', '[]', '{}', '"12"', '""']) mutate(field, raw);
          for (const id of BAD_IDS) mutate(field, JSON.stringify(id));
          const { [field]: _gone, ...missing } = good;
          requests.push({
            what: `${label} without ${field}`,
            method: route.method,
            url,
            headers: admin(),
            payload: JSON.stringify(missing),
          });
        }
        requests.push({
          what: `${label} with an extra field`,
          method: route.method,
          url,
          headers: admin(),
          payload: JSON.stringify({ ...good, isAdmin: true }),
        });
        if (route.url === '/orders') {
          // Inside the order lines.
          const line = { productId: 'pen-1', quantity: 1, unitPrice: 150 };
          const lines = (raw: string) => JSON.stringify({ ...good, items: '__HOLE__' }).replace('"__HOLE__"', raw);
          for (const key of Object.keys(line)) {
            for (const raw of [...HUGE_NUMBERS, '"1"', 'null', ...BAD_IDS.map((i) => JSON.stringify(i))]) {
              const item = JSON.stringify({ ...line, [key]: '__V__' }).replace('"__V__"', raw);
              requests.push({
                what: `POST /orders items[0].${key}=${raw.slice(0, 30)}`,
                method: 'POST',
                url,
                headers: admin(),
                payload: lines(`[${item}]`),
                legit: plausible(raw),
              });
            }
          }
          requests.push({ what: 'POST /orders no items', method: 'POST', url, headers: admin(), payload: lines('[]') });
          requests.push({
            what: 'POST /orders 101 items',
            method: 'POST',
            url,
            headers: admin(),
            payload: lines(JSON.stringify(Array.from({ length: 101 }, (_, i) => ({ ...line, productId: `p-${i}` })))),
          });
          requests.push({
            what: 'POST /orders the same product twice',
            method: 'POST',
            url,
            headers: admin(),
            payload: lines(JSON.stringify([line, line])),
          });
          requests.push({
            what: 'POST /orders total above the maximum',
            method: 'POST',
            url,
            headers: admin(),
            payload: lines(JSON.stringify([{ ...line, quantity: 1000, unitPrice: 999_999_999_999 }])),
          });
          for (const key of ['', 'k'.repeat(256)])
            requests.push({
              what: `POST /orders Idempotency-Key ${JSON.stringify(key.slice(0, 10))} (length ${key.length})`,
              method: 'POST',
              url,
              headers: { ...admin(), 'idempotency-key': key },
              payload: JSON.stringify(good),
            });
        }
      }
      const r = await sweep(s, requests);
      problems.push(...r.problems);
      total += r.sent;
    }
    expect(problems).toEqual([]);
    expect(total).toBeGreaterThan(300);
  });

  it('missing, expired, forged and malformed tokens on every route that needs one', async () => {
    let total = 0;
    const badAuth: Record<string, Record<string, string>> = {
      missing: {},
      expired: { authorization: `Bearer ${tokens.expired}` },
      forged: { authorization: `Bearer ${tokens.badSignature}` },
      'alg none': { authorization: `Bearer ${algNoneToken('ops-1', 'admin')}` },
      garbage: { authorization: 'Bearer not.a.jwt' },
      empty: { authorization: 'Bearer ' },
      'basic scheme': { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` },
      'sql in token': { authorization: "Bearer ' OR 1=1 --" },
      'huge token': { authorization: `Bearer ${'a'.repeat(8000)}` },
    };
    for (const s of services) {
      const requests = [];
      for (const route of routesOf(s)) {
        if (route.auth === 'public') continue;
        const body = goodBody(route);
        for (const [kind, headers] of Object.entries(badAuth))
          requests.push({
            what: `${route.method} ${route.url} with a ${kind} token`,
            method: route.method,
            url: fillPath(route.url),
            headers,
            payload: body ? JSON.stringify(body) : route.method === 'POST' ? '{}' : undefined,
          });
      }
      const before = await snapshot(s.db);
      const problems: string[] = [];
      for (const r of requests) {
        const a = await send(s, r.method, r.url, r.headers, r.payload);
        checkAnswer(`${s.name} ${r.what}`, a, problems);
        if (a.status !== 401) problems.push(`${s.name} ${r.what}: expected 401, got ${a.status}`);
      }
      expect(problems).toEqual([]);
      expect(await snapshot(s.db), `${s.name}: database changed by unauthenticated requests`).toEqual(before);
      total += requests.length;
    }
    expect(total).toBeGreaterThan(50);
  });

  it('the sweep itself is sound: a good request still changes the database', async () => {
    const inventory = services[1]!;
    const before = await snapshot(inventory.db);
    const res = await inventory.app.inject({
      method: 'POST',
      url: '/products/pen-1/restock',
      headers: admin(),
      payload: { quantity: 1 },
    });
    expect(res.statusCode).toBe(200);
    expect(await snapshot(inventory.db)).not.toEqual(before);
  });
});
