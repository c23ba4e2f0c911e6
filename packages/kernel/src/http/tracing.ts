/**
 * HTTP server spans by `@fastify/otel` (docs/observability.md): every request runs in a server span, child of the
 * incoming `traceparent` header or the root of a new trace, named `<METHOD> <route>`; its handler runs in a child
 * span. The response carries the server span's `traceparent`, so a caller (the console, a test, a support ticket)
 * learns the trace id of what it started.
 */
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { context, type Span, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ensureTelemetry } from '../telemetry.js';
import { formatTraceparent } from '../tracing.js';

const requestSpans = new WeakMap<FastifyRequest, Span>();

export async function installHttpTracing(app: FastifyInstance, service: string): Promise<void> {
  ensureTelemetry();
  const otel = new FastifyOtelInstrumentation({
    registerOnInitialization: false,
    // Hook spans would outnumber the work: the request's span and its handler's are kept.
    instrumentHooks: false,
    requestHook: (span: Span, request: FastifyRequest) => {
      span.updateName(`${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`);
      // Several servers share one process (and so one service.name) in the embedded default.
      span.setAttribute('commerce.service', service);
      requestSpans.set(request, span);
    },
  });
  await app.register(otel.plugin());
  app.addHook('onRequest', (request, reply, done) => {
    const span = requestSpans.get(request) ?? trace.getActiveSpan();
    if (span) reply.header('traceparent', formatTraceparent(span.spanContext()));
    done();
  });
  // A body is read from socket events, outside the request's async context: enter the span again after it, so the
  // hooks that follow (and their log lines) run in it.
  const reenter = (request: FastifyRequest, _reply: unknown, done: (err?: Error) => void) => {
    const span = requestSpans.get(request);
    if (span) context.with(trace.setSpan(context.active(), span), () => done());
    else done();
  };
  app.addHook('preValidation', reenter);
  app.addHook('preHandler', reenter);
}
