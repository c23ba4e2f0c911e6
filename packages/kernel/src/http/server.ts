/// <reference types="@fastify/swagger" preserve="true" />
/// <reference types="@fastify/rate-limit" preserve="true" />
import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest, LogController } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { AuthVerifier } from '../auth/verifier.js';
import type { RateLimitSetting, ServiceName } from '../config.js';
import type { Logger } from '../log.js';
import { createHttpMetrics, createMetricsRegistry } from '../metrics.js';
import { installAuthentication, requireRouteAuth } from './authenticate.js';
import { installErrorHandler, installNotFoundHandler, problemFor, sendProblem, titleOf } from './errors.js';
import { finishDocument, transformRoute } from './openapi.js';
import { sharedComponents } from './openapiComponents.js';
import { HttpProblem } from './problem.js';
import { installHttpTracing } from './tracing.js';
import { validatorCompiler } from './validation.js';

export interface HttpServerOptions {
  service: ServiceName | string;
  title: string;
  version: string;
  log: Logger;
  /** How bearer tokens are verified, or 'disabled' (AUTH_DISABLED=true: every caller is an admin). */
  auth: AuthVerifier | 'disabled';
  /** RATE_LIMIT parsed; null = off. */
  rateLimit: RateLimitSetting | null;
  /** Shared rate-limit store across instances; memory when absent. */
  redis?: Redis;
  /** Key prefix of the shared rate-limit counters (default `ratelimit:<service>:`); tests isolate with it. */
  rateLimitPrefix?: string;
  /** Dependency name → check that resolves when it is usable (e.g. database, broker). */
  readiness: Record<string, () => Promise<void>>;
  /** Registry to expose on /metrics (a new one with default process metrics when absent). */
  metricsRegistry?: Registry;
  /** Time to receive a whole request (default 30 s). */
  requestTimeoutMs?: number;
  /** Idle socket timeout (default 60 s). */
  connectionTimeoutMs?: number;
  /** Longest a readiness check may take before it counts as down (default 2 s). */
  readinessTimeoutMs?: number;
}

/** Something every server made by createHttpServer in this process gets, before any route (e.g. a test harness's check). */
export type HttpServerHook = (app: FastifyInstance, service: string) => void;
const serverHooks: HttpServerHook[] = [];
/**
 * Runs `hook` on each server createHttpServer makes from now on in this process. The test harness installs its
 * response-validation check this way (test/support/responseCheck.ts); the services install nothing.
 */
export function onHttpServerCreated(hook: HttpServerHook): void {
  serverHooks.push(hook);
}

export type TypedApp = ReturnType<typeof typed>;
/** The same instance, typed for TypeBox schemas: `typed(app).post('/x', {schema: {body: T}}, (req) => req.body.y)`. */
export function typed(app: FastifyInstance) {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

export const BODY_LIMIT = 1024 * 1024;
const DOCS_PREFIX = '/docs';
/** The ports `npm start` listens on (the documents' server URLs). */
const DEFAULT_PORTS: Record<string, number> = { order: 3000, inventory: 3001, payment: 3002 };
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify writes "incoming request" before any hook runs, outside the request's span, so the line would lack the
 * trace id that every other line of the request carries; an onRequest hook writes it instead (createHttpServer).
 */
class SpanAwareLogController extends LogController {
  override incomingRequest(): void {}
}

/**
 * The HTTP bootstrap every service runs on (SPEC §4): problem+json errors, bearer auth with per-route rules,
 * rate limits (shared through Redis when given), health, Prometheus metrics, OpenAPI and docs.
 * Call the service's `routes(app)` on the result, then `listen`.
 */
export async function createHttpServer(opts: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // Requests are logged by path (no query string: nothing a client put there ends up in the logs, and the
    // logger's `url` redaction, meant for connection strings, does not blank it); headers are never logged.
    loggerInstance: opts.log.child({}, { serializers: { req: serializeRequest } }) as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    connectionTimeout: opts.connectionTimeoutMs ?? 60_000,
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
    requestIdHeader: false,
    logController: new SpanAwareLogController(),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { allErrors: true } },
    routerOptions: { maxParamLength: 200 },
    // Errors the router raises before any route runs (bad URL encoding, over-long path parameter) are problems too.
    frameworkErrors: (err, _request, reply) => sendProblem(reply, problemFor(err)),
  });
  app.setValidatorCompiler(validatorCompiler);
  for (const hook of serverHooks) hook(app, opts.service);
  await installHttpTracing(app, opts.service);
  // Inside the request's span (the tracing hook above runs the next hooks in it): the line carries its trace id.
  app.addHook('onRequest', (request, _reply, done) => {
    request.log.info({ req: request }, 'incoming request');
    done();
  });
  // JSON only: a text/plain body is refused with 415 rather than handed to a handler as a string.
  app.removeContentTypeParser(['text/plain']);

  if (opts.auth === 'disabled')
    opts.log.warn(
      { service: opts.service },
      'AUTH_DISABLED=true: authentication is OFF, every caller acts as an admin',
    );

  const registry = opts.metricsRegistry ?? createMetricsRegistry(opts.service);
  const metrics = createHttpMetrics(registry);

  requireRouteAuth(app, DOCS_PREFIX);
  installErrorHandler(app);
  await app.register(helmet, { global: true });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: opts.title,
        version: opts.version,
        description: `The ${opts.service} service of the Commerce Platform. Errors answer application/problem+json.`,
        license: { name: 'UNLICENSED', identifier: 'UNLICENSED' },
      },
      servers: [
        {
          url: '/',
          description: `the server that serves this document (npm start: http://localhost:${DEFAULT_PORTS[opts.service] ?? 3000})`,
        },
      ],
      components: { securitySchemes: sharedComponents().securitySchemes },
      security: [{ bearerAuth: [] }],
    },
    transform: ({ schema, url, route }) => ({
      schema: transformRoute(schema as Record<string, unknown>, route) as typeof schema,
      url,
    }),
    transformObject: (documentObject) =>
      finishDocument((documentObject as { openapiObject: Record<string, unknown> }).openapiObject) as never,
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, staticCSP: true });

  installAuthentication(app, opts.auth, opts.service);

  if (opts.rateLimit) {
    const limit = opts.rateLimit;
    const authOn = opts.auth !== 'disabled';
    await app.register(rateLimit, {
      global: true,
      max: limit.max,
      timeWindow: limit.windowMs,
      redis: opts.redis,
      nameSpace: opts.rateLimitPrefix ?? `ratelimit:${opts.service}:`,
      // A Redis outage must not take the API down with it: requests pass unlimited until it is back.
      skipOnError: true,
      keyGenerator: (request: FastifyRequest) =>
        authOn && request.principal ? `sub:${request.principal.sub}` : `ip:${request.ip}`,
      errorResponseBuilder: (_request, context) =>
        new HttpProblem(
          429,
          titleOf(429),
          `rate limit of ${context.max} requests per ${context.after} exceeded; retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} s`,
          undefined,
          { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
        ),
    });
  }

  installNotFoundHandler(app);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '<unmatched>';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, reply.elapsedTime / 1000);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    return payload;
  });

  const exempt = { auth: 'public' as const, rateLimit: false as const };
  app.get(
    '/health/live',
    {
      config: { ...exempt, openapi: LIVE_DOC },
      schema: { tags: ['operations'], operationId: 'getLiveness', summary: 'The process is up' },
    },
    async () => ({ status: 'live' }),
  );
  app.get(
    '/health/ready',
    {
      config: { ...exempt, openapi: READY_DOC },
      schema: {
        tags: ['operations'],
        operationId: 'getReadiness',
        summary: 'Every dependency answers (503 names those down)',
      },
    },
    async (_request, reply) => {
      const timeoutMs = opts.readinessTimeoutMs ?? 2000;
      const names = Object.keys(opts.readiness);
      const results = await Promise.all(names.map((name) => runCheck(opts.readiness[name]!, timeoutMs)));
      const checks: Record<string, string> = {};
      const down: string[] = [];
      names.forEach((name, i) => {
        checks[name] = results[i] ? 'down' : 'up';
        if (results[i]) down.push(`${name} (${results[i]})`);
      });
      if (down.length > 0)
        throw new HttpProblem(503, 'Service Unavailable', `not ready: ${down.join(', ')} down`, undefined, undefined, {
          checks,
        });
      return reply.send({ status: 'ready', checks });
    },
  );
  app.get('/metrics', { config: exempt, schema: { hide: true } }, async (_request, reply) =>
    reply.type(registry.contentType).send(await registry.metrics()),
  );
  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());
  return app;
}

const LIVE_DOC = {
  responses: {
    200: {
      description: 'Live',
      schema: Type.Object({ status: Type.Literal('live') }, { title: 'Liveness' }),
    },
  },
};
const READY_DOC = {
  responses: {
    200: {
      description: 'Ready: every dependency answered',
      schema: Type.Object(
        { status: Type.Literal('ready'), checks: Type.Record(Type.String(), Type.Literal('up')) },
        { title: 'Readiness', examples: [{ status: 'ready', checks: { database: 'up', broker: 'up' } }] },
      ),
    },
  },
};

function serializeRequest(req: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) {
  return {
    method: req.method,
    path: req.url?.split('?')[0]?.slice(0, 300),
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
  };
}

/** undefined when the check passed, else a short reason (never a connection string). */
async function runCheck(check: () => Promise<void>, timeoutMs: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return message.replace(/[a-z]+:\/\/[^\s]+/gi, '<url>').slice(0, 200);
  } finally {
    clearTimeout(timer);
  }
}
