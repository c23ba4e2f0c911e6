import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  createTestVhost,
  describeWith,
  uniqueName,
  waitFor,
} from '../../../test/support/services.js';
import { envelope, message } from '../test-fixtures/bus/bus.contract.js';
import { RabbitMqBus } from './bus/rabbitmq.js';
import { PgDatabase } from './db/pg.js';
import { createLogger } from './log.js';
import { partitionOf, rendezvousOwner, StaticOwnership } from './partitions.js';

const log = createLogger({ level: 'silent' });
const ROOT = resolve(import.meta.dirname, '../../..');
const WORKER = resolve(import.meta.dirname, '../test-fixtures/bus/partitionWorker.ts');
const PARTITIONS = 16;
const KEYS = 1000;
const PER_KEY = 10;
const LEASE_MS = 3000;
const HEARTBEAT_MS = 500;

it('partitionOf spreads orders over all partitions and is stable', () => {
  const counts = new Array(PARTITIONS).fill(0);
  const ids = Array.from({ length: 4000 }, () => randomUUID());
  for (const id of ids) counts[partitionOf(id, PARTITIONS)]++;
  expect(Math.min(...counts)).toBeGreaterThan(150);
  for (const id of ids.slice(0, 50)) expect(partitionOf(id, PARTITIONS)).toBe(partitionOf(id, PARTITIONS));
  // Consistent: going from 16 to 17 partitions moves only the orders that land on the new one.
  const moved = ids.filter((id) => partitionOf(id, 16) !== partitionOf(id, 17));
  expect(moved.every((id) => partitionOf(id, 17) === 16)).toBe(true);
  expect(() => partitionOf('x', 0)).toThrow(/partition count/);
  expect(rendezvousOwner(3, ['a', 'b'])).toBe(rendezvousOwner(3, ['b', 'a']));
  expect(new StaticOwnership(4).current()).toEqual(new Set([0, 1, 2, 3]));
});

describeWith(['postgres', 'rabbitmq'], 'partitioned consumption over PostgreSQL leases, two worker processes', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let db: PgDatabase;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    database = await createTestDatabase('partitions');
    vhost = await createTestVhost('partitions');
    db = new PgDatabase({ url: database.url, log });
    await db.exec(`CREATE TABLE handled (
      order_id uuid NOT NULL, seq int NOT NULL, worker text NOT NULL, partition_queue text NOT NULL,
      started_at float8 NOT NULL, ended_at float8 NOT NULL, recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      n bigserial)`);
  });
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await db?.close();
    await database?.drop();
    await vhost?.drop();
  });

  function startWorker(id: string, queue: string): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', WORKER], {
      cwd: ROOT,
      env: {
        ...process.env,
        DB_URL: database.url,
        AMQP_URL: vhost.url,
        INSTANCE_ID: id,
        QUEUE: queue,
        PARTITIONS: String(PARTITIONS),
        LEASE_MS: String(LEASE_MS),
        HEARTBEAT_MS: String(HEARTBEAT_MS),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    workers.push(child);
    return new Promise((ok, fail) => {
      child.once('exit', (code) => fail(new Error(`worker ${id} exited early (${code})`)));
      child.stdout?.on('data', (b: Buffer) => {
        if (b.toString().includes('ready')) ok(child);
      });
    });
  }

  const owners = async () =>
    (
      await db.query<{ partition: number; owner: string | null }>(
        'SELECT partition, owner FROM partition_leases WHERE expires_at > now() ORDER BY partition',
      )
    ).rows;

  // Two worker processes and 10,000 messages: 35–46 s alone on 2 cores, more beside other suites.
  it('spreads 16 partitions over both workers, keeps every order in order, and moves a killed worker’s partitions', {
    timeout: 180_000,
  }, async () => {
    const t0 = Date.now();
    const mark = (what: string) => console.info(`${what} at ${Date.now() - t0} ms`);
    const queue = uniqueName('saga');
    const a = await startWorker('worker-a', queue);
    await startWorker('worker-b', queue);
    // Both workers hold a share of the 16 partitions before any message is sent.
    await waitFor(
      async () => {
        const rows = await owners();
        const by = new Set(rows.map((r) => r.owner));
        return rows.length === PARTITIONS && by.has('worker-a') && by.has('worker-b') && !by.has(null);
      },
      { what: 'both workers to hold leases', timeoutMs: 30_000 },
    );

    mark('leases spread');
    const bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'partition-publisher' });
    await bus.start();
    const keys = Array.from({ length: KEYS }, () => randomUUID());
    let killedAt = 0;
    for (let seq = 1; seq <= PER_KEY; seq++) {
      for (let i = 0; i < KEYS; i += 250) {
        await bus.publish(
          keys
            .slice(i, i + 250)
            .map((k) =>
              message(
                'order_events',
                envelope(
                  'ORDER_CANCELLED',
                  { reasons: [String(seq)], requiresRefund: false, requiresInventoryRollback: false },
                  k,
                ),
              ),
            ),
        );
      }
      if (seq === 5) {
        // Mid-run, once both have handled messages: kill worker A without any chance to clean up.
        await waitFor(
          async () => {
            const r = await db.query<{ worker: string; n: number }>(
              'SELECT worker, count(*)::int AS n FROM handled GROUP BY worker',
            );
            return r.rows.length === 2 && r.rows.every((x) => x.n > 200);
          },
          { what: 'both workers to handle messages', timeoutMs: 30_000 },
        );
        mark('killing A');
        a.kill('SIGKILL');
        killedAt = Date.now();
      }
    }
    await bus.close();
    mark('published');

    const failoverMs = await waitFor(
      async () => {
        const rows = await owners();
        return rows.length === PARTITIONS && rows.every((r) => r.owner === 'worker-b') ? Date.now() - killedAt : 0;
      },
      { what: 'worker B to own every partition', timeoutMs: 15_000 },
    );
    await waitFor(
      async () => {
        const r = await db.query<{ n: number }>('SELECT count(DISTINCT (order_id, seq))::int AS n FROM handled');
        return r.rows[0]?.n === KEYS * PER_KEY;
      },
      { what: 'every message handled', timeoutMs: 45_000 },
    );

    mark('all handled');
    const rows = (
      await db.query<{ order_id: string; seq: number; worker: string; started_at: number; ended_at: number }>(
        'SELECT order_id, seq, worker, started_at, ended_at FROM handled ORDER BY order_id, ended_at, n',
      )
    ).rows;
    const byKey = new Map<string, typeof rows>();
    for (const r of rows) byKey.set(r.order_id, [...(byKey.get(r.order_id) ?? []), r]);
    expect(byKey.size).toBe(KEYS);
    let duplicates = 0;
    let overlaps = 0;
    const expected = Array.from({ length: PER_KEY }, (_, i) => i + 1);
    for (const [, list] of byKey) {
      // At-least-once: a message redelivered after the kill may run twice; the first completions are in order.
      const firsts: number[] = [];
      for (const r of list) if (!firsts.includes(r.seq)) firsts.push(r.seq);
      duplicates += list.length - firsts.length;
      expect(firsts).toEqual(expected);
      const byStart = [...list].sort((x, y) => x.started_at - y.started_at);
      for (let i = 1; i < byStart.length; i++)
        if ((byStart[i]?.started_at ?? 0) < (byStart[i - 1]?.ended_at ?? 0)) overlaps++;
    }
    expect(overlaps).toBe(0);
    const perWorker = await db.query<{ worker: string; n: number }>(
      'SELECT worker, count(*)::int AS n FROM handled GROUP BY worker ORDER BY worker',
    );
    console.info(
      `partitions: failover ${failoverMs} ms (lease ${LEASE_MS} ms), duplicates after kill ${duplicates}, per worker ${JSON.stringify(perWorker.rows)}`,
    );
    expect(failoverMs).toBeLessThan(15_000);
    const b = workers[1] as ChildProcess;
    b.kill('SIGTERM');
    await once(b, 'exit');
  });
});
