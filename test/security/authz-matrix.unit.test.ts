import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthzTable, KERNEL_ROUTE_RULES, runAuthzMatrix } from './authz-matrix.js';
import { demoServer, makeTokens, type Tokens } from './fixtures.js';

const order = (customerId: string) => ({
  customerId,
  currency: 'EUR',
  items: [{ productId: 'p-1', quantity: 1, unitPrice: 100 }],
});

/** The demo service's table: what each caller must get on each route. */
const DEMO_TABLE: AuthzTable = {
  ...KERNEL_ROUTE_RULES,
  'GET /public/ping': { auth: 'public' },
  'GET /boom': { auth: 'public', ok: 500 },
  'POST /things': {
    auth: 'signed-in',
    request: { payload: order('cust-a') },
    ok: 202,
    // Placing an order for someone else is refused outright.
    expect: { customerB: 403 },
  },
  'GET /things/:customerId': { auth: 'signed-in', request: { url: '/things/cust-a' }, expect: { customerB: 404 } },
  'PUT /admin/things/:id': { auth: 'admin', request: { url: '/admin/things/t1', payload: { name: 'n' } } },
};

describe('authorization matrix (demo service)', () => {
  let app: FastifyInstance;
  let tokens: Tokens;
  beforeAll(async () => {
    tokens = await makeTokens();
    app = await demoServer();
  });
  afterAll(async () => {
    await app.close();
  });

  it('every route has a rule and every caller gets the status the table says', async () => {
    const result = await runAuthzMatrix(app, DEMO_TABLE, tokens);
    expect(result.tableErrors).toEqual([]);
    expect(result.failures).toEqual([]);
    // Every demo route (HEAD twins included) was called by all 7 callers.
    const demoCells = result.cells.filter((c) => /things|ping/.test(c.route));
    expect(demoCells.length).toBe(7 * 6); // POST /things, GET+HEAD /things/:id, PUT /admin/things/:id, GET+HEAD /public/ping
    expect(result.cells.filter((c) => c.route === 'PUT /admin/things/:id').map((c) => c.actual)).toEqual([
      401, 401, 401, 401, 403, 403, 200,
    ]);
  });

  it('fails for a route missing from the table, a stale rule, and a changed auth level', async () => {
    const { 'GET /things/:customerId': _dropped, ...rest } = DEMO_TABLE;
    const table: AuthzTable = {
      ...rest,
      'PUT /admin/things/:id': { ...DEMO_TABLE['PUT /admin/things/:id']!, auth: 'signed-in' },
      'DELETE /gone': { auth: 'admin' },
    };
    const result = await runAuthzMatrix(app, table, tokens);
    expect(result.tableErrors).toEqual(
      expect.arrayContaining([
        'GET /things/:customerId (auth: signed-in) has no rule in the table',
        'HEAD /things/:customerId (auth: signed-in) has no rule in the table',
        "PUT /admin/things/:id declares auth 'admin' but the table says 'signed-in'",
        'DELETE /gone is in the table but no such route is registered',
      ]),
    );
    // With the wrong level, the table's expectation (customers allowed) is contradicted by the server (403).
    expect(result.failures.some((f) => f.startsWith('PUT /admin/things/t1 as customerA: expected 200, got 403'))).toBe(
      true,
    );
  });

  it('catches a broken ownership check', async () => {
    const table: AuthzTable = {
      ...DEMO_TABLE,
      'GET /things/:customerId': { auth: 'signed-in', request: { url: '/things/cust-a' } },
    };
    const result = await runAuthzMatrix(app, table, tokens);
    expect(result.failures).toContainEqual(
      expect.stringMatching(/^GET \/things\/cust-a as customerB: expected 200, got 404/),
    );
  });
});
