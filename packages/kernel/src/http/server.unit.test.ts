import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, demoServer, makeTokens, type Tokens } from '../../../../test/security/fixtures.js';
import { createLogger } from '../log.js';
import { createHttpServer } from './server.js';

let app: Awaited<ReturnType<typeof demoServer>>;
let tokens: Tokens;
const goodOrder = { customerId: 'cust-a', currency: 'EUR', items: [{ productId: 'p-1', quantity: 2, unitPrice: 150 }] };

beforeAll(async () => {
  tokens = await makeTokens();
  app = await demoServer();
});
afterAll(async () => {
  await app.close();
});

function expectProblem(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }, status: number) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({
    status,
    type: expect.stringMatching(/^https?:\/\//),
    title: expect.any(String),
    detail: expect.any(String),
  });
  return body as {
    type: string;
    title: string;
    status: number;
    detail: string;
    errors?: { field: string; message: string; in?: string }[];
  };
}

describe('HTTP bootstrap: problem+json', () => {
  it('accepts a valid body from its owner', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: authHeader(tokens, 'customerA'),
      payload: goodOrder,
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 1 });
  });

  it('answers 400 naming every bad field with a JSON pointer and what was expected', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: authHeader(tokens, 'customerA'),
      payload: {
        customerId: 'cust-a',
        items: [
          { productId: 'p-1', quantity: 0, unitPrice: 1.5 },
          { productId: 'p-2', quantity: '3', unitPrice: 1 },
        ],
      },
    });
    const body = expectProblem(res, 400);
    const fields = Object.fromEntries((body.errors ?? []).map((e) => [e.field, e.message]));
    expect(Object.keys(fields).sort()).toEqual([
      '/currency',
      '/items/0/quantity',
      '/items/0/unitPrice',
      '/items/1/quantity',
    ]);
    expect(fields['/currency']).toMatch(/required/i);
    expect(fields['/items/0/quantity']).toMatch(/greater or equal to 1/);
    expect(fields['/items/0/unitPrice']).toMatch(/integer/i);
    // No coercion of strings into numbers in bodies.
    expect(fields['/items/1/quantity']).toMatch(/integer/i);
    expect(body.detail).toContain('/items/0/quantity');
  });

  it('rejects unknown properties and names them', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: authHeader(tokens, 'customerA'),
      payload: { ...goodOrder, discount: 100 },
    });
    const body = expectProblem(res, 400);
    expect(body.errors?.map((e) => e.field)).toContain('/discount');
  });

  it('converts and validates query strings, applies defaults, and names the bad parameter', async () => {
    const ok = await app.inject({ method: 'GET', url: '/things/cust-a', headers: authHeader(tokens, 'customerA') });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ customerId: 'cust-a', limit: 20, by: 'cust-a' });
    const limit = await app.inject({
      method: 'GET',
      url: '/things/cust-a?limit=7',
      headers: authHeader(tokens, 'customerA'),
    });
    expect(limit.json()).toMatchObject({ limit: 7 });
    const bad = await app.inject({
      method: 'GET',
      url: '/things/cust-a?limit=500',
      headers: authHeader(tokens, 'customerA'),
    });
    const body = expectProblem(bad, 400);
    expect(body.errors).toEqual([
      { field: '/limit', in: 'querystring', message: expect.stringMatching(/less or equal to 100/) },
    ]);
  });

  it('answers 413 for a 2 MiB body', async () => {
    const big = { ...goodOrder, pad: 'x'.repeat(2 * 1024 * 1024) };
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: authHeader(tokens, 'customerA'),
      payload: big,
    });
    const body = expectProblem(res, 413);
    expect(body.detail).toMatch(/1 MiB/);
  });

  it('answers 415 for a body that is not JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await app.inject({
        method: 'POST',
        url: '/things',
        headers: { ...authHeader(tokens, 'customerA'), 'content-type': type },
        payload: 'customerId=cust-a',
      });
      expectProblem(res, 415);
    }
  });

  it('answers 400 for malformed JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/things',
      headers: { ...authHeader(tokens, 'customerA'), 'content-type': 'application/json' },
      payload: '{"customerId": "cust-a",',
    });
    const body = expectProblem(res, 400);
    expect(body.detail).toMatch(/not valid JSON/);
  });

  it('answers problems for router errors: malformed URL encoding, over-long path parameter', async () => {
    const badUrl = await app.inject({
      method: 'GET',
      url: '/things/%E0%A4%A',
      headers: authHeader(tokens, 'customerA'),
    });
    expectProblem(badUrl, 400);
    const long = await app.inject({
      method: 'GET',
      url: `/things/${'x'.repeat(300)}`,
      headers: authHeader(tokens, 'customerA'),
    });
    expect(expectProblem(long, 414).detail).toMatch(/longer than 200/);
  });

  it('answers 404 problem for an unknown route', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope/nothing' });
    const body = expectProblem(res, 404);
    expect(body.detail).toContain('/nope/nothing');
  });

  it('answers 500 with a generic detail, never the error message or SQL', async () => {
    const res = await app.inject({ method: 'GET', url: '/boom' });
    const body = expectProblem(res, 500);
    expect(JSON.stringify(body)).not.toMatch(/secret_table|SELECT|stack|at /);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('sets hardening headers (helmet)', async () => {
    const res = await app.inject({ method: 'GET', url: '/public/ping' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('HTTP bootstrap: authentication and roles', () => {
  const bad: [string, keyof Tokens | 'none' | 'garbage'][] = [
    ['no token', 'none'],
    ['an expired token', 'expired'],
    ['a token with a bad signature', 'badSignature'],
    ['an alg:none token', 'algNone'],
    ['a malformed token', 'garbage'],
  ];
  for (const [what, kind] of bad) {
    it(`answers 401 with WWW-Authenticate for ${what}`, async () => {
      const headers = kind === 'garbage' ? { authorization: 'Bearer not.a.jwt' } : authHeader(tokens, kind);
      const res = await app.inject({ method: 'POST', url: '/things', headers, payload: goodOrder });
      expectProblem(res, 401);
      const challenge = String(res.headers['www-authenticate']);
      expect(challenge).toMatch(/^Bearer\b/);
      if (kind === 'none') expect(challenge).not.toContain('invalid_token');
      else expect(challenge).toContain('error="invalid_token"');
    });
  }

  it('names why an expired token was refused', async () => {
    const res = await app.inject({ method: 'GET', url: '/things/cust-a', headers: authHeader(tokens, 'expired') });
    expect(expectProblem(res, 401).detail).toMatch(/expired/);
  });

  it('answers 403 for a customer on an admin route and 200 for an admin', async () => {
    const customer = await app.inject({
      method: 'PUT',
      url: '/admin/things/x',
      headers: authHeader(tokens, 'customerA'),
      payload: { name: 'n' },
    });
    expectProblem(customer, 403);
    const admin = await app.inject({
      method: 'PUT',
      url: '/admin/things/x',
      headers: authHeader(tokens, 'admin'),
      payload: { name: 'n' },
    });
    expect(admin.statusCode).toBe(200);
    expect(admin.json()).toEqual({ id: 'x', name: 'n' });
  });

  it('checks auth before reading the body: no token and a bad body still answer 401', async () => {
    const res = await app.inject({ method: 'POST', url: '/things', payload: { nonsense: true } });
    expectProblem(res, 401);
  });

  it("answers 404 for someone else's resource, 200 for the admin", async () => {
    expectProblem(
      await app.inject({ method: 'GET', url: '/things/cust-a', headers: authHeader(tokens, 'customerB') }),
      404,
    );
    const admin = await app.inject({ method: 'GET', url: '/things/cust-a', headers: authHeader(tokens, 'admin') });
    expect(admin.json()).toMatchObject({ customerId: 'cust-a', by: 'ops-1' });
  });

  it('refuses a route without config.auth at registration', async () => {
    const server = await createHttpServer({
      service: 'order',
      title: 't',
      version: '0',
      log: createLogger({ level: 'silent' }),
      auth: 'disabled',
      rateLimit: null,
      readiness: {},
    });
    expect(() => server.get('/open', async () => 'oops')).toThrow(/config\.auth must be/);
    await server.close();
  });

  it('with auth disabled, every caller is the admin principal "anonymous" and a warning is logged', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } });
    const server = await demoServer({ auth: 'disabled', log });
    const res = await server.inject({ method: 'PUT', url: '/admin/things/y', payload: { name: 'z' } });
    expect(res.statusCode).toBe(200);
    const mine = await server.inject({ method: 'GET', url: '/things/whoever' });
    expect(mine.json()).toMatchObject({ by: 'anonymous' });
    expect(lines.some((l) => /"level":"warn"/.test(l) && /AUTH_DISABLED/.test(l))).toBe(true);
    await server.close();
  });

  it("logs a request's incoming and completed lines with its trace id", async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => lines.push(l) } });
    const server = await demoServer({ log });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await server.inject({
      method: 'GET',
      url: '/things/cust-a?secret=not-logged',
      headers: { ...authHeader(tokens, 'customerA'), traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.statusCode).toBe(200);
    const parsed = lines.map((l) => JSON.parse(l) as { msg: string; trace_id?: string; req?: { path?: string } });
    const incoming = parsed.find((l) => l.msg === 'incoming request');
    const completed = parsed.find((l) => l.msg === 'request completed');
    expect(incoming?.trace_id).toBe(traceId);
    expect(incoming?.req?.path).toBe('/things/cust-a');
    expect(completed?.trace_id).toBe(traceId);
    expect(parsed.filter((l) => l.msg === 'incoming request')).toHaveLength(1);
    await server.close();
  });
});

describe('HTTP bootstrap: operations endpoints', () => {
  it('serves liveness and readiness', async () => {
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'up' } });
  });

  it('answers readiness 503 naming the dependency that is down', async () => {
    const server = await demoServer({
      readiness: {
        database: async () => {},
        broker: async () => {
          throw new Error('connect ECONNREFUSED amqp://guest:guest@127.0.0.1:5672');
        },
      },
    });
    const res = await server.inject({ method: 'GET', url: '/health/ready' });
    const body = expectProblem(res, 503) as Record<string, unknown>;
    expect(body.detail).toMatch(/broker/);
    expect(body.detail).not.toMatch(/database|guest/);
    expect(body.checks).toEqual({ database: 'up', broker: 'down' });
    await server.close();
  });

  it('counts requests in /metrics by route pattern and status', async () => {
    const server = await demoServer();
    for (let i = 0; i < 3; i++)
      await server.inject({
        method: 'GET',
        url: `/things/cust-a?limit=${i + 1}`,
        headers: authHeader(tokens, 'customerA'),
      });
    await server.inject({ method: 'GET', url: '/things/cust-a', headers: authHeader(tokens, 'customerB') });
    const res = await server.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/things\/:customerId",status="200",service="order"\} 3\n/,
    );
    expect(text).toMatch(
      /http_requests_total\{method="GET",route="\/things\/:customerId",status="404",service="order"\} 1\n/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_count\{[^}]*route="\/things\/:customerId",status="200"[^}]*\} 3\n/,
    );
    expect(text).not.toContain('cust-a?limit');
    expect(text).toContain('process_cpu_user_seconds_total');
    await server.close();
  });

  it('serves OpenAPI 3 listing every route, with bearer security except on public ones', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as {
      openapi: string;
      paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown; responses?: unknown }>>;
      components: { securitySchemes: Record<string, unknown> };
      security: unknown[];
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/things',
        '/things/{customerId}',
        '/admin/things/{id}',
        '/public/ping',
        '/health/live',
        '/health/ready',
      ]),
    );
    expect(doc.paths['/things']?.post?.requestBody).toBeDefined();
    expect(doc.paths['/public/ping']?.get?.security).toEqual([]);
    expect(doc.paths['/things']?.post?.security).toBeUndefined();
    // Documented answers of the route, plus the ones the bootstrap gives (as problem+json).
    const responses = (doc.paths['/things']?.post?.responses ?? {}) as Record<string, { $ref?: string }>;
    expect(Object.keys(responses).sort()).toEqual(['202', '400', '401', '413', '415', '429', '500', '503']);
    expect(responses['401']?.$ref).toBe('#/components/responses/Unauthorized');
    expect(responses['429']?.$ref).toBe('#/components/responses/TooManyRequests');
    const docs = await app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(docs.statusCode);
  });
});
