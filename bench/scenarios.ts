import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { http, startProcess } from '../test/support/platform.js';
import {
  type Platform,
  type PlatformOptions,
  pollFinals,
  seed,
  startDistributed,
  watchFinals,
} from './lib/platform.js';
import { type LatencySummary, round, sleep, summarize } from './lib/stats.js';
import { randomOrder } from './lib/workload.js';

const nowMs = () => performance.timeOrigin + performance.now();

export interface CreateResult {
  connections: number;
  seconds: number;
  /** 202 answers per second. */
  throughput: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** POST /orders with autocannon, every request a distinct valid order with its own Idempotency-Key. */
export async function createRun(
  orderUrl: string,
  admin: string,
  connections: number,
  seconds: number,
  overallRate?: number,
): Promise<CreateResult> {
  const r = await autocannon({
    url: orderUrl,
    connections,
    duration: seconds,
    ...(overallRate ? { overallRate } : {}),
    requests: [
      {
        method: 'POST',
        path: '/orders',
        setupRequest: (req) => ({
          ...req,
          headers: {
            authorization: `Bearer ${admin}`,
            'content-type': 'application/json',
            'idempotency-key': randomUUID(),
          },
          body: JSON.stringify(randomOrder()),
        }),
      },
    ],
  });
  return {
    connections,
    seconds,
    throughput: round(r['2xx'] / r.duration, 1),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

export interface PacedCreateResult {
  rate: number;
  seconds: number;
  /** Requests per second actually sent (the schedule's rate when the generator keeps up). */
  sentRate: number;
  /** 202 answers per second over the run. */
  throughput: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
}

/**
 * POST /orders at a fixed rate, open model: request i is due at start + i/rate and is sent then, whether or not
 * earlier ones were answered; its latency runs from when it was due (so a stalled generator or server cannot hide
 * its own queueing). autocannon's overallRate spends each connection's per-second quota at the start of every
 * second (bursts at full speed, then idle), which measures bursts, not a steady rate.
 */
export async function pacedCreateRun(
  orderUrl: string,
  admin: string,
  rate: number,
  seconds: number,
): Promise<PacedCreateResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });
  const target = new URL('/orders', orderUrl);
  const n = Math.round(rate * seconds);
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let ok = 0;
  const send = (due: number) =>
    new Promise<void>((resolve) => {
      const body = JSON.stringify(randomOrder());
      const req = request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${admin}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'idempotency-key': randomUUID(),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(nowMs() - due);
            if (res.statusCode === 202) ok++;
            else non2xx++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const start = nowMs() + 20;
  const inFlight: Promise<void>[] = [];
  let i = 0;
  while (i < n) {
    const wait = start + (i * 1000) / rate - nowMs();
    if (wait > 1) await sleep(Math.min(wait, 5));
    for (; i < n && start + (i * 1000) / rate <= nowMs(); i++) inFlight.push(send(start + (i * 1000) / rate));
  }
  const sentRate = round(n / ((nowMs() - start) / 1000), 1);
  await Promise.all(inFlight);
  const elapsed = (nowMs() - start) / 1000;
  agent.destroy();
  const lat = summarize(latencies);
  return {
    rate,
    seconds,
    sentRate,
    throughput: round(ok / elapsed, 1),
    p50: lat.p50,
    p99: lat.p99,
    max: lat.max,
    errors,
    non2xx,
  };
}

export interface SagaResult {
  rate: number;
  seconds: number;
  sent: number;
  /** Orders whose POST failed (not 202). */
  rejected: number;
  /** Orders not final when the run gave up waiting. */
  unfinished: number;
  /** Achieved send rate (the generator's own lag shows here). */
  sentRate: number;
  latency: LatencySummary;
  orderIds: string[];
}

/**
 * Open model: orders are sent on a fixed schedule (never waiting for earlier ones), latency from the scheduled
 * send time (so a generator that falls behind adds to it, never hides it) to the moment the final status is seen.
 */
export async function sagaRun(
  orderUrl: string,
  admin: string,
  finals: Map<string, number>,
  rate: number,
  seconds: number,
  drainMs = 15_000,
): Promise<SagaResult> {
  const n = Math.round(rate * seconds);
  const start = nowMs() + 50;
  const sends: { at: number; orderId?: string; ok: boolean }[] = [];
  const inFlight: Promise<void>[] = [];
  let i = 0;
  while (i < n) {
    const due = start + (i * 1000) / rate;
    const wait = due - nowMs();
    if (wait > 1) await sleep(Math.min(wait, 5));
    while (i < n && start + (i * 1000) / rate <= nowMs()) {
      const s: { at: number; orderId?: string; ok: boolean } = { at: start + (i * 1000) / rate, ok: false };
      sends.push(s);
      inFlight.push(
        http('POST', `${orderUrl}/orders`, admin, randomOrder(), { 'idempotency-key': randomUUID() })
          .then((r) => {
            s.ok = r.status === 202;
            s.orderId = r.body?.orderId;
          })
          .catch(() => {}),
      );
      i++;
    }
  }
  const sentRate = round(n / ((nowMs() - start) / 1000), 1);
  await Promise.all(inFlight);
  const deadline = nowMs() + drainMs;
  const accepted = sends.filter((s) => s.ok && s.orderId);
  while (nowMs() < deadline && accepted.some((s) => !finals.has(s.orderId!))) await sleep(20);
  const lat = accepted.map((s) => {
    const f = finals.get(s.orderId!);
    return f === undefined ? Number.POSITIVE_INFINITY : f - s.at;
  });
  return {
    rate,
    seconds,
    sent: n,
    rejected: sends.length - accepted.length,
    unfinished: lat.filter((l) => !Number.isFinite(l)).length,
    sentRate,
    latency: summarize(lat),
    orderIds: accepted.map((s) => s.orderId!),
  };
}

async function epochMs(url: string, sql: string, params: unknown[]): Promise<Map<string, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const res = await c.query<{ id: string; ms: number }>(sql, params);
    return new Map(res.rows.map((r) => [r.id, Number(r.ms)]));
  } finally {
    await c.end();
  }
}

/**
 * Outbox lag of ORDER_CREATED: from the outbox row's created_at (PostgreSQL now() = the start of the order's
 * transaction, so the figure also holds the rest of that transaction: an upper bound of commit → handler) to the
 * first consumer's inbox row handled_at (inventory or payment; now() of the consumer's transaction, whose first
 * statement is the inbox insert: the handler's start plus one Redis round trip). One clock: all on this machine.
 */
export async function outboxLags(p: Platform, orderIds: readonly string[]): Promise<LatencySummary> {
  const created = await epochMs(
    p.databases.order,
    `SELECT message_id::text AS id, extract(epoch FROM created_at) * 1000 AS ms FROM outbox
      WHERE routing_key = 'order.created' AND partition_key = ANY($1::text[])`,
    [orderIds],
  );
  const ids = [...created.keys()];
  const inboxSql =
    'SELECT message_id AS id, extract(epoch FROM handled_at) * 1000 AS ms FROM inbox WHERE message_id = ANY($1::text[])';
  const inv = await epochMs(p.databases.inventory, inboxSql, [ids]);
  const pay = await epochMs(p.databases.payment, inboxSql, [ids]);
  const lags: number[] = [];
  for (const [id, t] of created) {
    const first = Math.min(inv.get(id) ?? Number.POSITIVE_INFINITY, pay.get(id) ?? Number.POSITIVE_INFINITY);
    lags.push(first - t);
  }
  return summarize(lags);
}

/** Idle: one order at a time, spaced out, so that nothing else runs when each is relayed. */
export async function idleOrders(
  p: Platform,
  finals: Map<string, number>,
  count: number,
  gapMs: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await http('POST', `${p.urls.order}/orders`, p.adminToken, randomOrder(), {
      'idempotency-key': randomUUID(),
    });
    if (r.status !== 202) throw new Error(`POST /orders answered ${r.status}: ${JSON.stringify(r.body)}`);
    ids.push(r.body.orderId);
    const t0 = nowMs();
    while (!finals.has(r.body.orderId) && nowMs() - t0 < 5000) await sleep(5);
    await sleep(gapMs);
  }
  return ids;
}

/** Scenario saga on the embedded default: one `all` process, PGlite, in-process bus; final status polled. */
export async function embeddedSaga(rates: number[], seconds: number): Promise<SagaResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'commerce-bench-embedded-'));
  const secret = randomUUID() + randomUUID();
  const proc = await startProcess('all', { DATA_DIR: dir, JWT_SECRET: secret, RATE_LIMIT: 'off', LOG_LEVEL: 'warn' });
  try {
    const { token } = await import('../test/support/platform.js');
    const admin = await token(secret, 'bench-admin', 'admin', 86_400);
    await seed(proc.urls, admin);
    const watcher = pollFinals(proc.urls.order!, admin);
    const out: SagaResult[] = [];
    try {
      for (const rate of rates) out.push(await sagaRun(proc.urls.order!, admin, watcher.finals, rate, seconds));
    } finally {
      await watcher.close();
    }
    return out;
  } finally {
    await proc.stop().catch(() => proc.kill());
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The three services started (`options`), seeded, and warmed up with the saga at 50 orders/s for `warmupSeconds`, so
 * that the measured runs find the services' code compiled (V8 optimizes hot functions after some thousand calls; a
 * deployed service has long done so) and the pools filled; then `measure` runs with the final events as they are seen.
 * Stopped (and its databases and vhost dropped) whatever happens.
 */
export async function withWarmSaga<T>(
  options: Omit<PlatformOptions, 'services'>,
  warmupSeconds: number,
  measure: (p: Platform, finals: Map<string, number>) => Promise<T>,
): Promise<T> {
  const p = await startDistributed({ services: ['order', 'inventory', 'payment'], ...options });
  try {
    const watcher = await watchFinals(p.amqpUrl);
    try {
      await seed(p.urls, p.adminToken);
      await sagaRun(p.urls.order!, p.adminToken, watcher.finals, 50, warmupSeconds);
      await sleep(500);
      return await measure(p, watcher.finals);
    } finally {
      await watcher.close();
    }
  } finally {
    await p.stop();
  }
}

export { watchFinals };
