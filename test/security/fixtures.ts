/**
 * Shared by the HTTP and security tests: a tiny demo service with one route of each auth kind and a TypeBox body,
 * and bearer tokens of every kind an attacker or a confused client might send.
 */
import {
  createAuthVerifier,
  createHttpServer,
  createLogger,
  HttpProblem,
  type HttpServerOptions,
  mayActFor,
  signToken,
  typed,
} from '@commerce/kernel';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export type TokenKind = 'none' | 'expired' | 'badSignature' | 'algNone' | 'customerA' | 'customerB' | 'admin';
export const TOKEN_KINDS: readonly TokenKind[] = [
  'none',
  'expired',
  'badSignature',
  'algNone',
  'customerA',
  'customerB',
  'admin',
];

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** An unsigned token (`alg: none`) claiming to be an admin: must never be accepted. */
export function algNoneToken(sub = 'mallory', role = 'admin'): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub, role, iat: now, exp: now + 3600 })}.`;
}

export interface Tokens {
  customerA: string;
  customerB: string;
  admin: string;
  expired: string;
  badSignature: string;
  algNone: string;
}

/** Tokens for customers `cust-a` and `cust-b` and an admin, plus the bad kinds, all for `secret`. */
export async function makeTokens(secret = TEST_SECRET): Promise<Tokens> {
  return {
    customerA: await signToken({ secret, sub: 'cust-a', role: 'customer', ttlSeconds: 3600 }),
    customerB: await signToken({ secret, sub: 'cust-b', role: 'customer', ttlSeconds: 3600 }),
    admin: await signToken({ secret, sub: 'ops-1', role: 'admin', ttlSeconds: 3600 }),
    // Expired an hour ago: well past the 30 s clock tolerance.
    expired: await signToken({
      secret,
      sub: 'cust-a',
      role: 'customer',
      ttlSeconds: 60,
      now: new Date(Date.now() - 7_200_000),
    }),
    badSignature: await signToken({
      secret: `${secret}-but-not-quite`,
      sub: 'cust-a',
      role: 'admin',
      ttlSeconds: 3600,
    }),
    algNone: algNoneToken(),
  };
}

export function authHeader(tokens: Tokens, kind: TokenKind): Record<string, string> {
  return kind === 'none' ? {} : { authorization: `Bearer ${tokens[kind]}` };
}

export const OrderBody = Type.Object(
  {
    customerId: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    items: Type.Array(
      Type.Object(
        {
          productId: Type.String({ minLength: 1, maxLength: 64 }),
          quantity: Type.Integer({ minimum: 1, maximum: 1000 }),
          unitPrice: Type.Integer({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);

/** Routes of each auth kind; `GET /things/:customerId` answers 404 for someone else's thing (SPEC §4). */
export async function demoRoutes(app: FastifyInstance): Promise<void> {
  const t = typed(app);
  t.get('/public/ping', { config: { auth: 'public' } }, async () => ({ pong: true }));
  t.post(
    '/things',
    {
      config: { auth: 'signed-in' },
      schema: { body: OrderBody, response: { 202: Type.Object({ accepted: Type.Integer() }) } },
    },
    async (request, reply) => {
      if (!mayActFor(request.principal, request.body.customerId)) throw HttpProblem.forbidden('not your customerId');
      return reply.code(202).send({ accepted: request.body.items.length });
    },
  );
  t.get(
    '/things/:customerId',
    {
      config: { auth: 'signed-in' },
      schema: {
        params: Type.Object({ customerId: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) }),
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }),
      },
    },
    async (request) => {
      if (!mayActFor(request.principal, request.params.customerId)) throw HttpProblem.notFound('no such thing');
      return { customerId: request.params.customerId, limit: request.query.limit, by: request.principal?.sub };
    },
  );
  t.put(
    '/admin/things/:id',
    { config: { auth: 'admin' }, schema: { body: Type.Object({ name: Type.String() }) } },
    async (request) => ({
      id: (request.params as { id: string }).id,
      name: request.body.name,
    }),
  );
  t.get('/boom', { config: { auth: 'public' } }, async () => {
    throw new Error('relation "secret_table" does not exist at SELECT * FROM secret_table');
  });
}

export async function demoServer(
  overrides: Partial<HttpServerOptions> = {},
  moreRoutes?: (app: FastifyInstance) => void,
): Promise<FastifyInstance> {
  const app = await createHttpServer({
    service: 'order',
    title: 'Demo',
    version: '0.0.0',
    log: createLogger({ level: 'silent' }),
    auth: createAuthVerifier({ secret: TEST_SECRET }),
    rateLimit: null,
    readiness: { database: async () => {} },
    ...overrides,
  });
  await demoRoutes(app);
  moreRoutes?.(app);
  await app.ready();
  return app;
}
