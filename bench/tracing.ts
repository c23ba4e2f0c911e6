/**
 * Tracing cost (issue 22): the saga with the OpenTelemetry SDK exporting every span (OTLP/HTTP protobuf, the
 * default) to a local receiver, against tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT: no exporter, no
 * instrumentation, no new sampled roots). Same warm-up, same rates, one after the other on this machine.
 *
 * Part of `npm run bench`; alone: `npm run bench:tracing [-- --quick]` (prints JSON, writes nothing).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LatencySummary } from './lib/stats.js';
import { idleOrders, outboxLags, type SagaResult, sagaRun, withWarmSaga } from './scenarios.js';

/** Accepts OTLP exports and drops them (counting spans' bytes), as a collector on the same host would. */
async function localReceiver() {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats: () => ({ requests, bytes }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export interface TracingRun {
  tracing: 'off' | 'exporting';
  idleLag?: LatencySummary;
  runs: Omit<SagaResult, 'orderIds'>[];
  exported?: { requests: number; bytes: number };
}

async function one(
  tracing: TracingRun['tracing'],
  o: { warmupSeconds: number; idle: { count: number; gapMs: number }; rates: number[]; seconds: number },
  endpoint?: string,
): Promise<Omit<TracingRun, 'exported'>> {
  const env: Record<string, string> = endpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } : {};
  return withWarmSaga({ envFor: { order: env, inventory: env, payment: env } }, o.warmupSeconds, async (p, finals) => {
    const idleLag = await outboxLags(p, await idleOrders(p, finals, o.idle.count, o.idle.gapMs));
    const runs: Omit<SagaResult, 'orderIds'>[] = [];
    for (const rate of o.rates) {
      const { orderIds: _ids, ...r } = await sagaRun(p.urls.order!, p.adminToken, finals, rate, o.seconds);
      runs.push(r);
    }
    return { tracing, idleLag, runs };
  });
}

/** The saga with tracing off, then exporting to a local receiver (the settings of `npm run bench`'s config). */
export async function tracingCost(cfg: {
  sagaWarmupSeconds: number;
  idle: { count: number; gapMs: number };
  classicRates: number[];
  sagaSeconds: number;
}): Promise<TracingRun[]> {
  const o = { warmupSeconds: cfg.sagaWarmupSeconds, idle: cfg.idle, rates: cfg.classicRates, seconds: cfg.sagaSeconds };
  const off = await one('off', o);
  const receiver = await localReceiver();
  try {
    const on = await one('exporting', o, receiver.url);
    return [off, { ...on, exported: receiver.stats() }];
  } finally {
    await receiver.close();
  }
}

/** One line per run, for the bench's summary. */
export function tracingLines(figures: readonly TracingRun[]): string[] {
  return figures.flatMap((t) =>
    t.runs.map(
      (r) =>
        `  tracing ${t.tracing.padEnd(9)} ${String(r.rate).padStart(4)}/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  unfinished ${r.unfinished}  idle lag p50 ${t.idleLag?.p50} ms`,
    ),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quick = process.argv.includes('--quick');
  const figures = await tracingCost(
    quick
      ? { sagaWarmupSeconds: 5, idle: { count: 10, gapMs: 50 }, classicRates: [50], sagaSeconds: 3 }
      : { sagaWarmupSeconds: 20, idle: { count: 30, gapMs: 50 }, classicRates: [50, 100], sagaSeconds: 10 },
  );
  for (const line of tracingLines(figures)) console.log(line);
  console.log(JSON.stringify(figures, null, 2));
}
