import { Writable } from 'node:stream';
import {
  createHttpServer,
  createLogger,
  currentTraceparent,
  ensureTelemetry,
  formatTraceparent,
  InProcessBus,
  parseTraceparent,
  RecentSpans,
  traceIdOf,
  withSpan,
} from '@commerce/kernel';
import { SpanKind, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';

function collectingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** Spans the platform's OpenTelemetry provider finished while this file ran. */
const recent = new RecentSpans();
ensureTelemetry().addSpanProcessor(recent);

describe('W3C traceparent', () => {
  it('parses a valid header and refuses malformed, zero and ff-version ones', () => {
    expect(parseTraceparent(PARENT)).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    });
    expect(formatTraceparent(parseTraceparent(PARENT)!)).toBe(PARENT);
    for (const bad of [
      undefined,
      '',
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    ])
      expect(parseTraceparent(bad)).toBeUndefined();
  });

  it('a span continues its parent trace with a new span id, visible to the OpenTelemetry API and in log lines', async () => {
    const { log, lines } = collectingLogger();
    await withSpan('work', { parent: PARENT }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      expect(traceIdOf(currentTraceparent())).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(currentTraceparent()).not.toBe(PARENT);
      expect(trace.getActiveSpan()?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      log.info('inside');
    });
    log.info('outside');
    expect(lines.find((l) => l.msg === 'inside')?.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(lines.find((l) => l.msg === 'outside')?.trace_id).toBeUndefined();
  });
});

describe('HTTP and bus propagation', () => {
  it('a request with a body runs its handler in the caller trace and answers its traceparent', async () => {
    const { log, lines } = collectingLogger();
    const app = await createHttpServer({
      service: 'order',
      title: 't',
      version: '0',
      log,
      auth: 'disabled',
      rateLimit: null,
      readiness: {},
    });
    let seen: string | undefined;
    app.post('/echo', { config: { auth: 'public' } }, async (req) => {
      await new Promise((r) => setTimeout(r, 1));
      seen = currentTraceparent();
      req.log.info('handled');
      return { ok: true };
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/echo',
        headers: { traceparent: PARENT },
        payload: { a: 1 },
      });
      expect(res.statusCode).toBe(200);
      expect(traceIdOf(seen)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(traceIdOf(res.headers.traceparent as string)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(lines.find((l) => l.msg === 'handled')?.trace_id).toBe('4bf92f3577b34da6a3ce929d0e0e4736');

      const fresh = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
      const freshTrace = traceIdOf(fresh.headers.traceparent as string);
      expect(freshTrace).toMatch(/^[0-9a-f]{32}$/);
      expect(traceIdOf(seen)).toBe(freshTrace);
    } finally {
      await app.close();
    }
  });

  it('an in-process consumer runs in a child span of the message traceparent and exports it', async () => {
    const { log } = collectingLogger();
    const bus = new InProcessBus({ log });
    await bus.start();
    let inHandler: string | undefined;
    await bus.subscribe({
      queue: 'test.q',
      bindings: [{ exchange: 'order_events', routingKey: 'order.created' }],
      handler: async () => {
        inHandler = currentTraceparent();
      },
    });
    const orderId = '6f1c2a9e-3f51-4c1e-9a63-0d6b8f2f7c11';
    await bus.publish([
      {
        exchange: 'order_events',
        routingKey: 'order.created',
        traceparent: PARENT,
        envelope: {
          eventId: 'a3bb189e-8bf9-3888-9912-ace4e6543002',
          eventType: 'ORDER_CREATED',
          schemaVersion: 1,
          occurredAt: new Date().toISOString(),
          orderId,
          causationId: null,
          source: 'order',
          data: {
            customerId: 'c-1',
            currency: 'EUR',
            items: [{ productId: 'p', quantity: 1, unitPrice: 1 }],
            totalAmount: 1,
          },
        } as never,
      },
    ]);
    await bus.close();
    expect(traceIdOf(inHandler)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const consumer = recent.spans.find((s) => s.kind === SpanKind.CONSUMER && s.name === 'consume test.q');
    expect(consumer?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(consumer?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(consumer?.resource.attributes['service.name']).toEqual(expect.any(String));
  });
});
