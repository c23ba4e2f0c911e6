/**
 * Figures of the whole platform beyond latency (issue 18): PostgreSQL transactions per completed order, each
 * service's resident memory, and the saga with each RabbitMQ queue type.
 */
import pg from 'pg';
import { metricTotal } from '../test/support/metrics.js';
import type { Platform } from './lib/platform.js';
import { type LatencySummary, round, sleep } from './lib/stats.js';
import { idleOrders, outboxLags, type SagaResult, sagaRun, withWarmSaga } from './scenarios.js';

const SERVICES = ['order', 'inventory', 'payment'] as const;

/** Committed + rolled back transactions of the three service databases (pg_stat_database). */
async function transactionCounts(p: Platform): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: p.databases.order });
  await c.connect();
  try {
    const res = await c.query<{ datname: string; n: string }>(
      'SELECT datname, xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = ANY($1)',
      [SERVICES.map((s) => p.databaseNames[s])],
    );
    return Object.fromEntries(
      SERVICES.map((s) => [s, Number(res.rows.find((r) => r.datname === p.databaseNames[s])?.n ?? 0)]),
    );
  } finally {
    await c.end();
  }
}

export interface TransactionsPerOrder {
  orders: number;
  /** Per service database and in all, over the run (background work — leases, pollers, retention — included). */
  perOrder: Record<string, number>;
  total: number;
}

/**
 * pg_stat_database deltas around `run`, divided by the orders it completed. The statistics reach the view up to a
 * second after a backend's transaction: the counters are read after a pause on both sides.
 */
export async function transactionsPerOrder(
  p: Platform,
  run: () => Promise<{ completed: number }>,
): Promise<TransactionsPerOrder> {
  await sleep(1500);
  const before = await transactionCounts(p);
  const { completed } = await run();
  await sleep(1500);
  const after = await transactionCounts(p);
  const perOrder = Object.fromEntries(
    SERVICES.map((s) => [s, round(((after[s] ?? 0) - (before[s] ?? 0)) / Math.max(1, completed), 2)]),
  );
  return {
    orders: completed,
    perOrder,
    total: round(
      SERVICES.reduce((sum, s) => sum + (perOrder[s] ?? 0), 0),
      2,
    ),
  };
}

/** Resident memory of each service process in MB, from its /metrics (process_resident_memory_bytes). */
export async function residentMemoryMb(p: Platform): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of SERVICES) {
    const url = p.urls[s];
    if (!url) continue;
    const text = await fetch(`${url}/metrics`).then((r) => r.text());
    out[s] = round((metricTotal(text, 'process_resident_memory_bytes') ?? Number.NaN) / 1024 / 1024, 1);
  }
  return out;
}

/** The saga on classic queues (QUEUE_TYPE=classic), to set against the default quorum queues: idle lag, then rates. */
export async function classicQueueSaga(o: {
  warmupSeconds: number;
  idle: { count: number; gapMs: number };
  rates: number[];
  seconds: number;
}): Promise<{ idleLag?: LatencySummary; runs: SagaResult[] }> {
  const env = { QUEUE_TYPE: 'classic' };
  return withWarmSaga({ envFor: { order: env, inventory: env, payment: env } }, o.warmupSeconds, async (p, finals) => {
    const idleLag = await outboxLags(p, await idleOrders(p, finals, o.idle.count, o.idle.gapMs));
    const runs: SagaResult[] = [];
    for (const rate of o.rates) runs.push(await sagaRun(p.urls.order!, p.adminToken, finals, rate, o.seconds));
    return { idleLag, runs };
  });
}
