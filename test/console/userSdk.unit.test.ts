/**
 * A user's own OpenTelemetry SDK and the platform in one process share one trace (issue 22, must-show 2): the user
 * registers a NodeTracerProvider first (as `node --import ./otel.mjs` would); the platform then registers nothing
 * of its own, and its spans — the HTTP server span of @fastify/otel, the handler's, the in-process consumer's —
 * go to the user's provider, children of the user's span, in the user's trace.
 */
import { Writable } from 'node:stream';
import { createHttpServer, createLogger, currentTraceparent, InProcessBus, startTelemetry } from '@commerce/kernel';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { expect, it } from 'vitest';

const exporter = new InMemorySpanExporter();
const userProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
// The user's SDK first: global tracer provider, AsyncLocalStorage context manager, W3C propagator.
userProvider.register();

const quiet = () =>
  createLogger({
    level: 'silent',
    destination: new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
  });

it('the platform registers nothing over a user SDK, and its spans join the user trace', async () => {
  const telemetry = startTelemetry({ serviceName: 'order' });
  expect(telemetry.registered).toBe(false);

  const log = quiet();
  const bus = new InProcessBus({ log });
  await bus.start();
  let consumed: string | undefined;
  const handled = new Promise<void>((resolve) => {
    void bus.subscribe({
      queue: 'user.q',
      bindings: [{ exchange: 'order_events', routingKey: 'order.created' }],
      handler: async () => {
        consumed = currentTraceparent();
        resolve();
      },
    });
  });
  const app = await createHttpServer({
    service: 'order',
    title: 't',
    version: '0',
    log,
    auth: 'disabled',
    rateLimit: null,
    readiness: {},
  });
  app.post('/work', { config: { auth: 'public' } }, async () => {
    // What a service does: publish a message with the current trace context (the outbox row's traceparent).
    await bus.publish([
      {
        exchange: 'order_events',
        routingKey: 'order.created',
        traceparent: currentTraceparent(),
        envelope: {
          eventId: 'b3bb189e-8bf9-3888-9912-ace4e6543002',
          eventType: 'ORDER_CREATED',
          schemaVersion: 1,
          occurredAt: new Date().toISOString(),
          orderId: '7f1c2a9e-3f51-4c1e-9a63-0d6b8f2f7c11',
          causationId: null,
          source: 'order',
          data: {
            customerId: 'c',
            currency: 'EUR',
            items: [{ productId: 'p', quantity: 1, unitPrice: 1 }],
            totalAmount: 1,
          },
        } as never,
      },
    ]);
    return { ok: true };
  });
  try {
    const userTracer = trace.getTracer('user-app');
    const userTraceId = await userTracer.startActiveSpan('user checkout', async (span) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      propagation.inject(context.active(), headers);
      const res = await app.inject({ method: 'POST', url: '/work', headers, payload: {} });
      expect(res.statusCode).toBe(200);
      await handled;
      span.end();
      return span.spanContext().traceId;
    });
    const spans = exporter.getFinishedSpans();
    const user = spans.find((s) => s.name === 'user checkout');
    const server = spans.find((s) => s.kind === SpanKind.SERVER && s.name === 'POST /work');
    const consumer = spans.find((s) => s.kind === SpanKind.CONSUMER && s.name === 'consume user.q');
    expect(server?.spanContext().traceId).toBe(userTraceId);
    expect(server?.parentSpanContext?.spanId).toBe(user?.spanContext().spanId);
    expect(consumer?.spanContext().traceId).toBe(userTraceId);
    expect(consumed?.split('-')[1]).toBe(userTraceId);
    // The platform's spans were recorded by the user's provider (its exporter), not by one of the platform's own.
    expect(spans.filter((s) => s.spanContext().traceId === userTraceId).length).toBeGreaterThanOrEqual(4);
  } finally {
    await app.close();
    await bus.close();
    await userProvider.shutdown();
  }
});
