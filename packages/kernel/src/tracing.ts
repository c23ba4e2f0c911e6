/**
 * End-to-end trace context (W3C Trace Context) on the OpenTelemetry API; the SDK behind it is set up in
 * telemetry.ts (or is the one a user registered first).
 *
 * One order's whole saga is one trace. What is left here is the glue the SDK does not know about: the HTTP
 * request's span (by `@fastify/otel`) gives its `traceparent` to every event and outbox row written while handling
 * it; the outbox row keeps it until the relay (or the dispatcher) publishes the message inside that context, so the
 * amqplib instrumentation's publish span continues the order's trace and puts its own context in the AMQP headers;
 * each consumer runs its handler in a child span of the message's `traceparent` header. Every log line written
 * inside a span carries `trace_id` and `span_id` (pino mixin).
 */
import { randomBytes } from 'node:crypto';
import {
  context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { ensureTelemetry } from './telemetry.js';

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

/** A span of the platform's: an OpenTelemetry span. */
export type TraceSpan = Span;

const tracer = () => trace.getTracer('@commerce/kernel');

function valid(sc: SpanContext | undefined): sc is SpanContext {
  return sc !== undefined && sc.traceId !== ZERO_TRACE && sc.spanId !== ZERO_SPAN;
}

/** `traceparent` of the current span (to put on outbox rows, events, outgoing requests); undefined outside one. */
export function currentTraceparent(): string | undefined {
  const sc = trace.getSpanContext(context.active());
  return valid(sc) ? formatTraceparent(sc) : undefined;
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
  const sc = trace.getSpanContext(context.active());
  return valid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}

const KINDS = {
  server: SpanKind.SERVER,
  consumer: SpanKind.CONSUMER,
  producer: SpanKind.PRODUCER,
  internal: SpanKind.INTERNAL,
} as const;

/** The context of a `traceparent` (a message header, an outbox row), or the active one without it. */
export function contextOfTraceparent(traceparent: string | undefined | null) {
  const remote = parseTraceparent(traceparent);
  return remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : context.active();
}

/**
 * The parent a consumer's span takes: the active span when it belongs to the message's trace (the amqplib
 * instrumentation's span of this delivery), else the message's `traceparent` header.
 */
export function parentOf(traceparent: string | undefined): string | undefined {
  const active = trace.getSpanContext(context.active());
  return valid(active) && active.traceId === traceIdOf(traceparent) ? undefined : traceparent;
}

/** Opens a span, child of `parent` (a traceparent) or of the current span, or the root of a new trace. */
export function startSpan(
  name: string,
  opts: { parent?: string; kind?: keyof typeof KINDS; attributes?: Record<string, string | number | boolean> } = {},
): Span {
  ensureTelemetry();
  return tracer().startSpan(
    name,
    { kind: KINDS[opts.kind ?? 'internal'], attributes: opts.attributes },
    contextOfTraceparent(opts.parent),
  );
}

/** Ends a span, marking it failed when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    if (error instanceof Error) span.recordException(error);
  }
  span.end();
}

/** Runs `fn` inside `span` (callbacks and awaits inside inherit it). */
export function runInSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/** Runs `fn` in the context of a `traceparent` (the outbox row of a message being published), or as it is. */
export function runInTraceparent<T>(traceparent: string | undefined, fn: () => T): T {
  return traceparent ? context.with(contextOfTraceparent(traceparent), fn) : fn();
}

/**
 * Runs `fn` in a new span, child of `traceparent` when given (a message's header), else of the current span, and
 * ends it when `fn` settles. The consumers' wrapper: every handler of a message continues the message's trace.
 */
export async function withSpan<T>(
  name: string,
  opts: { parent?: string; kind?: keyof typeof KINDS; attributes?: Record<string, string | number | boolean> },
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

export { TraceFlags };
