/**
 * OpenTelemetry SDK set-up (docs/observability.md). Imports nothing that it instruments, so that an entry point can
 * start it before `pg`, `amqplib`, `ioredis` and `pino` load (`@commerce/kernel/telemetry`, first import of main.ts).
 *
 * - Resource: `service.name` (OTEL_SERVICE_NAME, else the service the process runs), `service.version`.
 * - Propagation: W3C trace context (and baggage); the context manager is AsyncLocalStorage.
 * - Sampler: the standard OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (default parent-based always-on).
 * - Export: OTLP over HTTP when OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) is set, protobuf or JSON by
 *   OTEL_EXPORTER_OTLP_PROTOCOL (`http/protobuf`, the default, or `http/json`); OTEL_EXPORTER_OTLP_HEADERS apply.
 * - Instrumentation, only when exporting: pg, amqplib, ioredis, pino (trace ids in log lines); Fastify through
 *   `@fastify/otel` on each server (tracing.ts).
 *
 * No endpoint: no exporter and no instrumentation, and unless OTEL_TRACES_SAMPLER says otherwise a sampler that
 * records nothing new (parent-based, root off): trace context still flows (trace ids on outbox rows, events and
 * log lines) at the cost of a few random bytes per span.
 *
 * An SDK the user registered first (e.g. `node --import ./otel.mjs`) wins: the platform then registers nothing and
 * its spans go to that SDK's provider, in the same traces.
 */
import { createRequire } from 'node:module';
import { context, propagation, type Span, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';

/** Span processors added while running (a test's in-memory exporter, a console's recent-span buffer). */
class LateSpanProcessors implements SpanProcessor {
  readonly list: SpanProcessor[] = [];
  onStart(span: Span & ReadableSpan, parent: Parameters<SpanProcessor['onStart']>[1]): void {
    for (const p of this.list) p.onStart(span as never, parent);
  }
  onEnd(span: ReadableSpan): void {
    for (const p of this.list) p.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.list.map((p) => p.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.list.map((p) => p.shutdown()));
  }
}

export interface Telemetry {
  /** True when this process's provider is the global one (false: a user-registered SDK was there first). */
  registered: boolean;
  /** Spans are exported (an OTLP endpoint is set). */
  exporting: boolean;
  /** Adds a span processor to the platform's provider (no-op when a user SDK is in charge). */
  addSpanProcessor(p: SpanProcessor): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  /** The spans kept by RecentSpans processors added with addSpanProcessor. */
  recentSpans(): ReadableSpan[];
}

/**
 * The process's telemetry, kept on globalThis like the OpenTelemetry API's own registrations: a second copy of this
 * module (a test runner's fresh module graph in the same process) finds the provider the first one registered.
 */
const STARTED = Symbol.for('commerce.telemetry');
const slot = globalThis as { [STARTED]?: Telemetry };

/** The OTLP exporter the standard variables ask for: http/protobuf (default) or http/json. */
function exporterFor(env: NodeJS.ProcessEnv) {
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    'http/protobuf'
  ).trim();
  if (protocol === 'http/json') return new OtlpJsonExporter();
  if (protocol === 'http/protobuf') return new OtlpProtoExporter();
  throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: expected http/protobuf or http/json, got ${JSON.stringify(protocol)}`);
}

/**
 * Starts tracing once per process (later calls answer the first). `serviceName` is used when OTEL_SERVICE_NAME is
 * unset. Call it before the instrumented libraries load for their spans (main.ts does).
 */
export function startTelemetry(o: { serviceName?: string; env?: NodeJS.ProcessEnv } = {}): Telemetry {
  const running = slot[STARTED];
  if (running) return running;
  const env = o.env ?? process.env;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const exporting = Boolean(endpoint) && env.OTEL_SDK_DISABLED !== 'true';
  const late = new LateSpanProcessors();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': env.OTEL_SERVICE_NAME || o.serviceName || 'commerce',
      'service.version': env.npm_package_version ?? '0.1.0',
    }),
    // No endpoint: keep the caller's sampling decision, start nothing new (unless OTEL_TRACES_SAMPLER asks).
    ...(!exporting && !env.OTEL_TRACES_SAMPLER
      ? { sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }) }
      : {}),
    spanProcessors: [...(exporting ? [new BatchSpanProcessor(exporterFor(env))] : []), late],
  });
  // Each slot is taken only if free: a user SDK registered first keeps its provider, propagator and context.
  const registered = trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (exporting) {
    registerInstrumentations({
      instrumentations: [
        new PgInstrumentation({ requireParentSpan: true }),
        new AmqplibInstrumentation(),
        new IORedisInstrumentation({ requireParentSpan: true }),
        new PinoInstrumentation({ disableLogSending: true }),
      ],
    });
    // The platform's modules import these as ESM, maybe before this ran; requiring them (and the files the
    // instrumentations patch) through the hooked require patches their prototypes in place, in the one copy both
    // module systems share.
    const require = createRequire(import.meta.url);
    for (const name of [
      'pg',
      'pg-pool',
      'amqplib',
      'amqplib/lib/connect.js',
      'amqplib/lib/channel_model.js',
      'amqplib/lib/callback_model.js',
      'ioredis',
      'pino',
    ])
      try {
        require(name);
      } catch {
        // Not installed where this runs: nothing to instrument.
      }
  }
  const started: Telemetry = {
    registered,
    exporting,
    addSpanProcessor: (p) => {
      late.list.push(p);
    },
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
    recentSpans: () => late.list.flatMap((p) => (p instanceof RecentSpans ? p.spans : [])),
  };
  slot[STARTED] = started;
  return started;
}

/** The telemetry started in this process, starting it without exporter if nobody did (tests, embedded use). */
export function ensureTelemetry(): Telemetry {
  return slot[STARTED] ?? startTelemetry({});
}

/** Keeps the last `limit` finished spans in memory (tests; a console's recent-span view). */
export class RecentSpans implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  constructor(private readonly limit = 2000) {}
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
    if (this.spans.length > this.limit) this.spans.splice(0, this.spans.length - this.limit);
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}
export type { ReadableSpan } from '@opentelemetry/sdk-trace-node';
