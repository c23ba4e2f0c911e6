/**
 * End-to-end trace context (W3C Trace Context, https://www.w3.org/TR/trace-context/).
 *
 * One order's whole saga is one trace: the HTTP request that placed it starts (or continues, from an incoming
 * `traceparent` header) the trace; every event and outbox row written while handling it carries the current
 * `traceparent`; the bus hands it to each consumer, which runs its handler in a child span of it; and so on down
 * the saga. Every log line written inside a traced operation carries `trace_id` and `span_id` (pino mixin).
 *
 * The context lives in AsyncLocalStorage, registered as the OpenTelemetry API's global context manager, so code
 * that uses `@opentelemetry/api` (`trace.getActiveSpan()`) sees the same span context. An OpenTelemetry SDK that a
 * user registers first takes that global slot: ours is then refused and the two never see each other's spans
 * (docs/console.md; replacing this file with the SDK is an open issue). Nothing else is recorded here; `OtlpSpanExporter` sends the spans we open (HTTP requests, message
 * handlers) to an OTLP/HTTP JSON endpoint when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (docs/console.md).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import {
  type Context,
  type ContextManager,
  context as otelContext,
  ROOT_CONTEXT,
  type SpanContext,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** Parses a `traceparent` header; undefined when absent or malformed (then a new trace starts). */
export function parseTraceparent(header: string | undefined | null): SpanContext | undefined {
  if (typeof header !== 'string') return undefined;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string?];
  // Version ff is forbidden; version 00 has exactly four fields (later versions may append more).
  if (version === 'ff' || (version === '00' && rest)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 0xff, isRemote: true };
}

export function formatTraceparent(sc: Pick<SpanContext, 'traceId' | 'spanId' | 'traceFlags'>): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}
export function newSpanId(): string {
  return randomBytes(8).toString('hex');
}

/** A span of work in this process: its own span id, the parent's trace id (or a new trace). */
export interface TraceSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceFlags: number;
  name: string;
  kind: 'server' | 'consumer' | 'internal';
  startTimeMs: number;
  attributes: Record<string, string | number | boolean>;
}

/** Where finished spans go (an OTLP exporter, a test collector); none by default. */
export interface SpanSink {
  export(span: TraceSpan & { endTimeMs: number; error?: string }): void;
}

let sink: SpanSink | undefined;
/** Sends every finished span to `s` (or stops exporting with undefined). */
export function setSpanSink(s: SpanSink | undefined): void {
  sink = s;
}

const storage = new AsyncLocalStorage<Context>();

/** OpenTelemetry context manager on AsyncLocalStorage (the API's default manager does not propagate). */
class AsyncLocalContextManager implements ContextManager {
  active(): Context {
    return storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    const fn = target as unknown as (...a: unknown[]) => unknown;
    return ((...a: unknown[]) => this.with(ctx, () => fn(...a))) as unknown as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    storage.disable();
    return this;
  }
}

let installed = false;
/** Registers the context manager with the OpenTelemetry API once per process (a no-op if an SDK did first). */
export function installTraceContext(): void {
  if (installed) return;
  installed = true;
  otelContext.setGlobalContextManager(new AsyncLocalContextManager());
}
installTraceContext();

const SPAN_KEY = Symbol.for('commerce.traceSpan');

/** The span this code runs in, if any. */
export function currentSpan(): TraceSpan | undefined {
  return storage.getStore()?.getValue(SPAN_KEY) as TraceSpan | undefined;
}

/** `traceparent` of the current span (to put on outbox rows, events, outgoing requests); undefined outside one. */
export function currentTraceparent(): string | undefined {
  const s = currentSpan();
  return s ? formatTraceparent(s) : undefined;
}

/**
 * The trace context a request's effects carry: the current span's (the request's server span), else the caller's
 * `traceparent` header when it is valid, else a new trace.
 */
export function requestTraceparent(header: unknown): string {
  const current = currentTraceparent();
  if (current) return current;
  const given = typeof header === 'string' ? parseTraceparent(header) : undefined;
  return formatTraceparent(given ?? { traceId: newTraceId(), spanId: newSpanId(), traceFlags: 1 });
}

/** Fields every log line written inside a span carries (the logger's mixin). */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const s = currentSpan();
  return s ? { trace_id: s.traceId, span_id: s.spanId } : {};
}

/** Opens a span, child of `parent` (a traceparent) or of the current span, or the root of a new trace. */
export function startSpan(
  name: string,
  opts: { parent?: string; kind?: TraceSpan['kind']; attributes?: TraceSpan['attributes'] } = {},
): TraceSpan {
  const remote = parseTraceparent(opts.parent);
  const local = remote ? undefined : currentSpan();
  return {
    traceId: remote?.traceId ?? local?.traceId ?? newTraceId(),
    spanId: newSpanId(),
    parentSpanId: remote?.spanId ?? local?.spanId,
    traceFlags: remote?.traceFlags ?? local?.traceFlags ?? TraceFlags.SAMPLED,
    name,
    kind: opts.kind ?? 'internal',
    startTimeMs: Date.now(),
    attributes: { ...(opts.attributes ?? {}) },
  };
}

function contextOf(span: TraceSpan): Context {
  const base = storage.getStore() ?? ROOT_CONTEXT;
  const sc: SpanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags: span.traceFlags };
  return trace.setSpanContext(base, sc).setValue(SPAN_KEY, span);
}

/** Reports the end of a span to the sink (if any). */
export function endSpan(span: TraceSpan, error?: unknown): void {
  if (!sink || (span.traceFlags & TraceFlags.SAMPLED) === 0) return;
  try {
    sink.export({
      ...span,
      endTimeMs: Date.now(),
      ...(error === undefined ? {} : { error: error instanceof Error ? error.message : String(error) }),
    });
  } catch {
    // Exporting is best effort: it never fails the work it describes.
  }
}

/** Runs `fn` inside `span` (synchronously entered, so callbacks and awaits inside inherit it). */
export function runInSpan<T>(span: TraceSpan, fn: () => T): T {
  return storage.run(contextOf(span), fn);
}

/**
 * Runs `fn` in a new span, child of `traceparent` when given (a message's header), else of the current span, and
 * ends it when `fn` settles. The consumers' wrapper: every handler of a message continues the message's trace.
 */
export async function withSpan<T>(
  name: string,
  opts: { parent?: string; kind?: TraceSpan['kind']; attributes?: TraceSpan['attributes'] },
  fn: () => Promise<T>,
): Promise<T> {
  const span = startSpan(name, opts);
  try {
    const out = await runInSpan(span, fn);
    endSpan(span);
    return out;
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}

/** The trace id of a traceparent string (undefined when malformed). */
export function traceIdOf(traceparent: string | undefined | null): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}

/** Minimal Fastify surface the HTTP tracing hook needs (kept structural so the kernel's http code stays optional). */
interface TracedApp {
  addHook(
    name: 'onRequest',
    hook: (
      request: { method: string; url: string; headers: Record<string, string | string[] | undefined> },
      reply: { header(name: string, value: string): unknown },
      done: (err?: Error) => void,
    ) => void,
  ): unknown;
  addHook(
    name: 'preValidation' | 'preHandler',
    hook: (request: object, reply: unknown, done: (err?: Error) => void) => void,
  ): unknown;
  addHook(
    name: 'onResponse',
    hook: (
      request: { routeOptions?: { url?: string } },
      reply: { statusCode: number },
      done: (err?: Error) => void,
    ) => void,
  ): unknown;
}

const requestSpans = new WeakMap<object, TraceSpan>();

/**
 * Every request runs in a server span, child of the incoming `traceparent` header or the root of a new trace;
 * the response carries the span's `traceparent` so a caller (the console, a test, a support ticket) learns the
 * trace id of what it started. The hook is callback-style and calls `done` inside the span: the rest of the
 * request's hooks and its handler run in it (the pattern of @fastify/request-context).
 */
export function installHttpTracing(app: TracedApp): void {
  app.addHook('onRequest', (request, reply, done) => {
    const header = request.headers.traceparent;
    const span = startSpan(`${request.method} ${request.url.split('?')[0]}`, {
      parent: typeof header === 'string' ? header : undefined,
      kind: 'server',
      attributes: { 'http.request.method': request.method },
    });
    requestSpans.set(request, span);
    reply.header('traceparent', formatTraceparent(span));
    runInSpan(span, () => done());
  });
  // A body is read from socket events, outside the request's async context: enter the span again after it.
  const reenter = (request: object, _reply: unknown, done: (err?: Error) => void) => {
    const span = requestSpans.get(request);
    if (span) runInSpan(span, () => done());
    else done();
  };
  app.addHook('preValidation', reenter);
  app.addHook('preHandler', reenter);
  app.addHook('onResponse', (request, reply, done) => {
    const span = requestSpans.get(request);
    if (span) {
      if (request.routeOptions?.url) span.attributes['http.route'] = request.routeOptions.url;
      span.attributes['http.response.status_code'] = reply.statusCode;
      endSpan(span, reply.statusCode >= 500 ? `HTTP ${reply.statusCode}` : undefined);
    }
    done();
  });
}

/**
 * A minimal OTLP/HTTP JSON span exporter (no SDK needed): batches finished spans and POSTs them to
 * `<endpoint>/v1/traces` every `intervalMs`. Export failures are dropped (tracing never blocks the platform).
 */
export class OtlpSpanExporter implements SpanSink {
  private buffer: (TraceSpan & { endTimeMs: number; error?: string })[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly url: string;

  constructor(
    private readonly opts: {
      endpoint: string;
      serviceName: string;
      intervalMs?: number;
      maxBatch?: number;
      headers?: Record<string, string>;
    },
  ) {
    this.url = `${opts.endpoint.replace(/\/+$/, '')}/v1/traces`;
    this.timer = setInterval(() => void this.flush(), opts.intervalMs ?? 2000);
    this.timer.unref();
  }

  export(span: TraceSpan & { endTimeMs: number; error?: string }): void {
    if (this.buffer.length >= (this.opts.maxBatch ?? 2048)) return;
    this.buffer.push(span);
  }

  /** The OTLP JSON body for a batch (exposed for tests). */
  static body(serviceName: string, spans: readonly (TraceSpan & { endTimeMs: number; error?: string })[]) {
    const kinds = { internal: 1, server: 2, consumer: 5 } as const;
    const value = (v: string | number | boolean) =>
      typeof v === 'string'
        ? { stringValue: v }
        : typeof v === 'boolean'
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: String(v) }
            : { doubleValue: v };
    return {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
          scopeSpans: [
            {
              scope: { name: '@commerce/kernel' },
              spans: spans.map((s) => ({
                traceId: s.traceId,
                spanId: s.spanId,
                ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                name: s.name,
                kind: kinds[s.kind],
                startTimeUnixNano: `${BigInt(s.startTimeMs) * 1_000_000n}`,
                endTimeUnixNano: `${BigInt(s.endTimeMs) * 1_000_000n}`,
                attributes: Object.entries(s.attributes).map(([key, v]) => ({ key, value: value(v) })),
                status: s.error ? { code: 2, message: s.error } : { code: 1 },
              })),
            },
          ],
        },
      ],
    };
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.opts.headers ?? {}) },
        body: JSON.stringify(OtlpSpanExporter.body(this.opts.serviceName, batch)),
        signal: AbortSignal.timeout(5000),
      });
    } catch {
      // Collector down: these spans are lost; the logs still carry every trace id.
    }
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}

/**
 * Starts the OTLP exporter when `endpoint` (Settings.otlpEndpoint, OTEL_EXPORTER_OTLP_ENDPOINT) is set; `headers`
 * (OTEL_EXPORTER_OTLP_HEADERS) go with each export. Returns the exporter (shut it down on stop), or undefined.
 */
export function exportSpans(o: {
  endpoint?: string;
  headers?: Record<string, string>;
  serviceName: string;
}): OtlpSpanExporter | undefined {
  if (!o.endpoint) return undefined;
  const exporter = new OtlpSpanExporter({ endpoint: o.endpoint, serviceName: o.serviceName, headers: o.headers });
  setSpanSink(exporter);
  return exporter;
}
