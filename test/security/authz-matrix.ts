/**
 * Authorization matrix (OWASP API1/API5): every route a server registers must have a rule in a table, and every
 * route is called by every kind of caller — no token, an expired one, a bad signature, `alg: none`, customer A,
 * customer B and an admin — with the status each must get. A new route without a rule fails the test, so nobody
 * adds an endpoint without deciding who may call it.
 */
import { type RegisteredRoute, type RouteAuth, registeredRoutes } from '@commerce/kernel';
import type { FastifyInstance } from 'fastify';
import { authHeader, TOKEN_KINDS, type TokenKind, type Tokens } from './fixtures.js';

export type Caller = TokenKind;
export const CALLERS = TOKEN_KINDS;
const REFUSED: readonly Caller[] = ['none', 'expired', 'badSignature', 'algNone'];

export interface MatrixRequest {
  /** Concrete URL (the pattern with its parameters filled in); default: the pattern itself. */
  url?: string;
  payload?: unknown;
  headers?: Record<string, string>;
}

export interface RouteRule {
  /** The rule the route must declare (a route that changes its `config.auth` fails the matrix). */
  auth: RouteAuth;
  /** The request to send; a function when callers need different data (e.g. each cancels its own order). */
  request?: MatrixRequest | ((caller: Caller) => MatrixRequest | Promise<MatrixRequest>);
  /** Status for callers that are let in (default 200). */
  ok?: number;
  /** Per-caller statuses overriding the defaults of `auth` (e.g. customerB: 404 for someone else's order). */
  expect?: Partial<Record<Caller, number>>;
  /**
   * Only these callers are sent (default all). For a stream that never ends (Server-Sent Events), whose admitted
   * callers are checked by a test that reads the stream: the refused ones are still checked here.
   */
  callers?: readonly Caller[];
}

/** `METHOD /pattern` → rule. A key ending in `*` covers every route under that prefix (e.g. `GET /docs*`). */
export type AuthzTable = Record<string, RouteRule>;

export interface MatrixResult {
  /** Routes without a rule, rules without a route, routes whose declared auth differs from the table. */
  tableErrors: string[];
  /** `METHOD url as caller: expected X, got Y` for every cell that did not match. */
  failures: string[];
  /** Every cell that was checked, for a readable report. */
  cells: { route: string; caller: Caller; expected: number; actual: number }[];
}

/** What the defaults of a rule say caller `c` must get. */
export function expectedStatus(rule: RouteRule, caller: Caller): number {
  const explicit = rule.expect?.[caller];
  if (explicit !== undefined) return explicit;
  const ok = rule.ok ?? 200;
  if (rule.auth === 'public') return ok;
  if (REFUSED.includes(caller)) return 401;
  if (rule.auth === 'admin' && caller !== 'admin') return 403;
  return ok;
}

function ruleFor(table: AuthzTable, route: RegisteredRoute): { key: string; rule: RouteRule } | undefined {
  const exact = `${route.method} ${route.url}`;
  if (table[exact]) return { key: exact, rule: table[exact] };
  // HEAD routes Fastify adds for GET routes share the GET rule.
  if (route.method === 'HEAD' && table[`GET ${route.url}`])
    return { key: `GET ${route.url}`, rule: table[`GET ${route.url}`]! };
  for (const [key, rule] of Object.entries(table)) {
    if (!key.endsWith('*')) continue;
    const [method, prefix] = key.slice(0, -1).split(' ') as [string, string];
    if ((method === route.method || (method === 'GET' && route.method === 'HEAD')) && route.url.startsWith(prefix))
      return { key, rule };
  }
  return undefined;
}

/**
 * Checks the table against the server's registered routes, then calls each route as each caller and compares
 * statuses. Wildcard rules (`GET /docs*`) are checked for their rule only, not called for every file.
 */
export async function runAuthzMatrix(app: FastifyInstance, table: AuthzTable, tokens: Tokens): Promise<MatrixResult> {
  const routes = registeredRoutes(app);
  const result: MatrixResult = { tableErrors: [], failures: [], cells: [] };
  const used = new Set<string>();
  const toCall: { route: RegisteredRoute; rule: RouteRule }[] = [];
  for (const route of routes) {
    const found = ruleFor(table, route);
    if (!found) {
      result.tableErrors.push(`${route.method} ${route.url} (auth: ${route.auth}) has no rule in the table`);
      continue;
    }
    used.add(found.key);
    if (found.rule.auth !== route.auth)
      result.tableErrors.push(
        `${route.method} ${route.url} declares auth '${route.auth}' but the table says '${found.rule.auth}'`,
      );
    if (!found.key.endsWith('*')) toCall.push({ route, rule: found.rule });
  }
  for (const key of Object.keys(table))
    if (!used.has(key)) result.tableErrors.push(`${key} is in the table but no such route is registered`);

  for (const { route, rule } of toCall) {
    for (const caller of rule.callers ?? CALLERS) {
      const req = typeof rule.request === 'function' ? await rule.request(caller) : (rule.request ?? {});
      const url = req.url ?? route.url;
      const res = await app.inject({
        method: route.method as 'GET',
        url,
        headers: { ...req.headers, ...authHeader(tokens, caller) },
        ...(req.payload === undefined ? {} : { payload: req.payload as object }),
      });
      const expected = expectedStatus(rule, caller);
      result.cells.push({ route: `${route.method} ${route.url}`, caller, expected, actual: res.statusCode });
      if (res.statusCode !== expected)
        result.failures.push(
          `${route.method} ${url} as ${caller}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 200)}`,
        );
    }
  }
  return result;
}

/** Rules for the routes every server made by createHttpServer has. */
export const KERNEL_ROUTE_RULES: AuthzTable = {
  'GET /health/live': { auth: 'public' },
  'GET /health/ready': { auth: 'public' },
  'GET /metrics': { auth: 'public' },
  'GET /openapi.json': { auth: 'public' },
  'GET /docs*': { auth: 'public' },
};
