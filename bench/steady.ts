/**
 * `npm run bench:steady`: what one order costs when nothing is transient. The quick bench steps its saga rates every
 * few seconds, so a single run is dominated by warm-up and backlog (its figures moved by 2–4× between runs of one
 * build, docs/performance.md). This measures, on the distributed platform after a warm-up:
 * - where the time of one order goes at idle (orders placed one after the other), hop by hop, from the timestamps
 *   the three databases recorded (one clock: all on this machine);
 * - the CPU time per order of every component (the three services, PostgreSQL, RabbitMQ, Redis, from /proc) and the
 *   order-to-final p50 while the saga runs at each rate for `--seconds` (default 12).
 * Prints a table and writes bench/results/steady.json. Linux only (/proc).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Platform } from './lib/platform.js';
import { percentile } from './lib/stats.js';
import { idleOrders, sagaRun, withWarmSaga } from './scenarios.js';

const RESULTS = join(import.meta.dirname, 'results');
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] ?? def) : def;
};
const rates = arg('--rates', '50,75').split(',').map(Number);
const seconds = Number(arg('--seconds', '12'));
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds so far of each process of a component, by `component:pid`. */
function cpuSeconds(): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const service = /main\.ts (order|inventory|payment)/.exec(cmd)?.[1];
      const component = service
        ? `node ${service}`
        : /postgres/.test(cmd)
          ? 'postgres'
          : /beam|rabbit/.test(cmd)
            ? 'rabbitmq'
            : /redis-server/.test(cmd)
              ? 'redis'
              : undefined;
      if (component) out.set(`${component}:${pid}`, (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS);
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

async function rows(url: string, sql: string, params: unknown[] = []): Promise<Record<string, string>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** Milliseconds of each hop of each order, from the order's events, its outbox rows and the participants' inboxes. */
async function hops(p: Platform, ids: string[]): Promise<Record<string, number>> {
  const events = await rows(
    p.databases.order,
    `SELECT substring(stream_id from 7) AS o, event_type AS t, extract(epoch FROM recorded_at) * 1000 AS ms
       FROM events WHERE substring(stream_id from 7) = ANY($1)`,
    [ids],
  );
  const outbox = await rows(
    p.databases.order,
    `SELECT partition_key AS o, envelope->>'eventType' AS t, message_id::text AS id FROM outbox
      WHERE partition_key = ANY($1)`,
    [ids],
  );
  const inbox = async (url: string) =>
    new Map<string, number>(
      (await rows(url, 'SELECT message_id AS id, extract(epoch FROM handled_at) * 1000 AS ms FROM inbox')).map((r) => [
        String(r.id),
        Number(r.ms),
      ]),
    );
  const inventory = await inbox(p.databases.inventory);
  const payment = await inbox(p.databases.payment);
  const at = new Map<string, number>(events.map((r) => [`${r.o}/${r.t}`, Number(r.ms)]));
  const messageId = new Map<string, string>(outbox.map((r) => [`${r.o}/${r.t}`, String(r.id)]));
  const samples: Record<string, number[]> = {};
  const add = (hop: string, ms: number) => {
    if (!Number.isFinite(ms)) return;
    samples[hop] ??= [];
    samples[hop].push(ms);
  };
  for (const o of ids) {
    const t = (type: string) => at.get(`${o}/${type}`) ?? Number.NaN;
    const inboxAt = (m: Map<string, number>, type: string) => m.get(messageId.get(`${o}/${type}`) ?? '') ?? Number.NaN;
    const results = Math.max(t('INVENTORY_RESERVED'), t('PAYMENT_APPROVED'));
    add('ORDER_CREATED → inventory handles it', inboxAt(inventory, 'ORDER_CREATED') - t('ORDER_CREATED'));
    add('ORDER_CREATED → payment handles it', inboxAt(payment, 'ORDER_CREATED') - t('ORDER_CREATED'));
    add('ORDER_CREATED → both results recorded', results - t('ORDER_CREATED'));
    add('ORDER_CONFIRMED → inventory handles it', inboxAt(inventory, 'ORDER_CONFIRMED') - t('ORDER_CONFIRMED'));
    add('ORDER_CONFIRMED → INVENTORY_COMMITTED recorded', t('INVENTORY_COMMITTED') - t('ORDER_CONFIRMED'));
    add('ORDER_CREATED → ORDER_COMPLETED', t('ORDER_COMPLETED') - t('ORDER_CREATED'));
  }
  return Object.fromEntries(
    Object.entries(samples).map(([hop, v]) => [
      hop,
      Math.round(
        percentile(
          [...v].sort((a, b) => a - b),
          0.5,
        ) * 100,
      ) / 100,
    ]),
  );
}

const report: { date: string; idleHopsP50Ms?: Record<string, number>; rates: unknown[] } = {
  date: new Date().toISOString(),
  rates: [],
};
// Warm-up: JIT, pools, plans (6 s at 50/s), then a second of quiet before the idle orders.
await withWarmSaga({}, 6, async (p, finals) => {
  await new Promise((r) => setTimeout(r, 500));
  report.idleHopsP50Ms = await hops(p, await idleOrders(p, finals, 60, 30));
  console.log('one order at idle, p50 of each hop (ms):');
  for (const [hop, ms] of Object.entries(report.idleHopsP50Ms)) console.log(`  ${hop.padEnd(48)} ${ms}`);
  for (const rate of rates) {
    const before = cpuSeconds();
    const run = await sagaRun(p.urls.order as string, p.adminToken, finals, rate, seconds);
    await new Promise((r) => setTimeout(r, 2000));
    const after = cpuSeconds();
    const perOrder: Record<string, number> = {};
    for (const [key, s] of after) {
      const component = key.slice(0, key.lastIndexOf(':'));
      perOrder[component] = (perOrder[component] ?? 0) + s - (before.get(key) ?? 0);
    }
    for (const c of Object.keys(perOrder))
      perOrder[c] = Math.round(((perOrder[c] as number) / run.orderIds.length) * 100_000) / 100;
    report.rates.push({ rate, orders: run.orderIds.length, p50Ms: run.latency.p50, cpuMsPerOrder: perOrder });
    console.log(`saga at ${rate}/s for ${seconds} s: ${run.orderIds.length} orders, p50 ${run.latency.p50} ms`);
    for (const [c, ms] of Object.entries(perOrder).sort()) console.log(`  ${c.padEnd(16)} ${ms} ms CPU per order`);
  }
  writeFileSync(join(RESULTS, 'steady.json'), `${JSON.stringify(report, null, 2)}\n`);
  console.log('wrote bench/results/steady.json');
});
process.exit(0);
