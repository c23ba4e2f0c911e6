import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { AuthError, type AuthVerifier } from '../auth/verifier.js';
import type { Principal, RouteAuth } from './principal.js';
import { HttpProblem } from './problem.js';

const RULES: ReadonlySet<string> = new Set(['public', 'signed-in', 'admin']);
const BEARER = /^Bearer[ ]+([A-Za-z0-9\-_.~+/]+=*)[ ]*$/i;

/** The caller of an auth-disabled server (AUTH_DISABLED=true): every request acts as this admin. */
export const ANONYMOUS_ADMIN: Principal = Object.freeze({ sub: 'anonymous', role: 'admin' });

/** Why a request's token was refused, kept from onRequest to preParsing. */
const authFailures = new WeakMap<FastifyRequest, HttpProblem>();

function unauthorized(realm: string, detail: string, tokenGiven: boolean): HttpProblem {
  const challenge = tokenGiven
    ? `Bearer realm="${realm}", error="invalid_token", error_description="${detail.replace(/["\\]/g, '')}"`
    : `Bearer realm="${realm}"`;
  return new HttpProblem(401, 'Unauthorized', detail, undefined, { 'www-authenticate': challenge });
}

export function routeAuthOf(request: FastifyRequest): RouteAuth {
  return (request.routeOptions.config as { auth?: RouteAuth } | undefined)?.auth ?? 'public';
}

/**
 * Route rules (SPEC §4): every route must say who may call it; a route without `config.auth` is refused at
 * registration so that nothing is ever open by accident. The docs plugin's own routes are public.
 */
export function requireRouteAuth(app: FastifyInstance, docsPrefix: string): void {
  const routes: RegisteredRoute[] = [];
  registries.set(app, routes);
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = (route.config ?? {}) as { auth?: unknown };
    const fromDocs = (route as RouteOptions & { prefix?: string }).prefix === docsPrefix;
    if (config.auth === undefined && fromDocs) {
      route.config = { ...config, auth: 'public' } as RouteOptions['config'];
    } else if (typeof config.auth !== 'string' || !RULES.has(config.auth)) {
      throw new Error(
        `route ${String(route.method)} ${route.url}: config.auth must be 'public', 'signed-in' or 'admin' (got ${JSON.stringify(config.auth)})`,
      );
    }
    const auth = (route.config as { auth: RouteAuth }).auth;
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, auth, docs: fromDocs });
  });
}

/** A route as registered, with its rule (for the authorization matrix test and for operators). */
export interface RegisteredRoute {
  method: string;
  url: string;
  auth: RouteAuth;
  /** Served by the interactive docs plugin. */
  docs: boolean;
}
const registries = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/** Every route registered on a server made by createHttpServer (HEAD routes Fastify adds for GET included). */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  const routes = registries.get(app);
  if (!routes) throw new Error('registeredRoutes: not a server made by createHttpServer');
  return routes;
}

/**
 * Verifies the bearer token in onRequest (so that the rate limit, which runs next, can count per `sub`), and
 * enforces the route's rule in preParsing, before any body is read: 401 without a valid token, 403 for a
 * customer on an admin route.
 */
export function installAuthentication(app: FastifyInstance, verifier: AuthVerifier | 'disabled', realm: string): void {
  app.addHook('onRequest', async (request) => {
    const rule = routeAuthOf(request);
    if (rule === 'public') return;
    if (verifier === 'disabled') {
      request.principal = ANONYMOUS_ADMIN;
      return;
    }
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      authFailures.set(
        request,
        unauthorized(realm, 'a bearer token is required (Authorization: Bearer <token>)', false),
      );
      return;
    }
    const match = BEARER.exec(header);
    if (!match?.[1]) {
      authFailures.set(request, unauthorized(realm, 'Authorization header: expected "Bearer <token>"', true));
      return;
    }
    try {
      request.principal = await verifier.verify(match[1]);
    } catch (err) {
      if (!(err instanceof AuthError)) {
        request.log.error({ err: (err as Error).message }, 'token verification unavailable');
        throw new HttpProblem(503, 'Service Unavailable', 'token verification is unavailable; try again shortly');
      }
      request.log.info({ reason: err.message }, 'bearer token rejected');
      authFailures.set(request, unauthorized(realm, err.message, true));
    }
  });

  app.addHook('preParsing', async (request, _reply, payload) => {
    const rule = routeAuthOf(request);
    if (rule === 'public') return payload;
    const failure = authFailures.get(request);
    if (failure) throw failure;
    const principal = request.principal;
    if (!principal) throw unauthorized(realm, 'a bearer token is required (Authorization: Bearer <token>)', false);
    if (rule === 'admin' && principal.role !== 'admin')
      throw new HttpProblem(403, 'Forbidden', 'this route needs role admin', undefined, {
        'www-authenticate': `Bearer realm="${realm}", error="insufficient_scope"`,
      });
    return payload;
  });
}
