import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  appendToStream,
  createLogger,
  type Database,
  type EventSubscription,
  openDatabase,
  projectionSubscription,
  type RebuildProgress,
  subscriptionStatus,
} from '@commerce/kernel';
import { analyticsProjection, orderMigrations, rebuildOrderProjections } from '@commerce/order';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../test/support/services.js';

const log = createLogger({ level: 'silent' });
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const items = [{ productId: 'sku-1', quantity: 1, unitPrice: 100 }];

/** Orders' events as the order service appends them: created, confirmed, completed (or cancelled). */
async function orders(db: Database, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const at = new Date().toISOString();
    const ev = (eventType: string, data: unknown) => ({ eventId: randomUUID(), eventType, data, occurredAt: at });
    const done =
      i % 4 === 0
        ? ev('ORDER_CANCELLED', {
            reasons: ['PAYMENT_DECLINED'],
            requiresRefund: false,
            requiresInventoryRollback: false,
          })
        : ev('ORDER_COMPLETED', {});
    await db.transaction((tx) =>
      appendToStream(tx, `order-${randomUUID()}`, 0, [
        ev('ORDER_CREATED', { customerId: `c${i % 7}`, currency: 'EUR', items, totalAmount: 100 }),
        ev('ORDER_CONFIRMED', {}),
        done,
      ]),
    );
  }
}

interface Run {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

function cli(url: string, ...args: string[]): Run {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ORDER_DATABASE_URL: url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = { child, lines: [], exited: new Promise((r) => child.on('exit', (code) => r(code))) };
  let buffer = '';
  child.stdout?.on('data', (d) => {
    buffer += d.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    run.lines.push(...parts);
  });
  child.stderr?.on('data', (d) => process.stderr.write(d));
  return run;
}

describeWith(['postgres'], 'commerce projections list | rebuild', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database;
  let live: EventSubscription;

  beforeAll(async () => {
    t = await createTestDatabase('projcli');
    db = await openDatabase({ url: t.url, name: 'order', migrations: orderMigrations, log });
    await orders(db, 1500);
    live = projectionSubscription(analyticsProjection, { db, instanceId: 'order-1', leaseMs: 3000, log });
    await live.start();
  });
  afterAll(async () => {
    await live?.stop();
    await db?.close();
    await t?.drop();
  });

  const outcomes = async () =>
    (
      await db.query<{ status: string; orders: string }>(
        'SELECT status, orders FROM analytics_outcomes ORDER BY status',
      )
    ).rows;

  it('lists every projection with its checkpoint, lag and state', async () => {
    await waitFor(async () => (await subscriptionStatus(db)).find((s) => s.name === 'analytics')?.lagEvents === 0);
    const run = cli(t.url, 'projections', 'list', '--json');
    expect(await run.exited).toBe(0);
    const { projections } = JSON.parse(run.lines.join('\n'));
    expect(projections.map((p: { name: string }) => p.name)).toEqual(['orders', 'customer_history', 'analytics']);
    // orders is written with its events; customer_history was never started here; analytics runs.
    expect(projections[0]).toMatchObject({ inline: true, status: null });
    expect(projections[1]).toMatchObject({ inline: false, status: null });
    expect(projections[2].status).toMatchObject({ state: 'running', handled: 4500, lagEvents: 0, owner: 'order-1' });
    const text = cli(t.url, 'projections', 'list');
    expect(await text.exited).toBe(0);
    expect(text.lines.join('\n')).toMatch(/^orders +inline +written with its events \(lag 0\)$/m);
  }, 60_000);

  it('rebuilds analytics while orders arrive, resumes after a SIGKILL, swaps, and equals what the live one had', async () => {
    const expectedBefore = await outcomes();
    expect(expectedBefore).toEqual([
      { status: 'CANCELLED', orders: 375 },
      { status: 'COMPLETED', orders: 1125 },
    ]);
    // 1. A rebuild killed after its first report: its shadow tables and checkpoint stay behind.
    const first = cli(t.url, 'projections', 'rebuild', 'analytics', '--json');
    await waitFor(() => first.lines.length > 0, { timeoutMs: 30_000, what: 'the first progress line' });
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = JSON.parse(first.lines[0] as string) as RebuildProgress;
    expect(killedAt).toMatchObject({ projection: 'analytics', phase: 'building', resumed: false });

    // 2. Orders keep arriving; the next rebuild resumes and swaps.
    let arriving = true;
    const arrivals = (async () => {
      let n = 0;
      while (arriving) {
        await orders(db, 4);
        n += 4;
      }
      return n;
    })();
    const second = cli(t.url, 'projections', 'rebuild', 'analytics', '--json');
    const code = await second.exited;
    arriving = false;
    const added = await arrivals;
    expect(code).toBe(0);
    const progress = second.lines.map((l) => JSON.parse(l) as RebuildProgress);
    expect(progress[0]).toMatchObject({ resumed: true });
    expect(progress.at(-1)).toMatchObject({ phase: 'swapped', etaSeconds: 0 });

    // 3. The live subscription took the swapped tables up and folded the orders that came after.
    await waitFor(async () => (await subscriptionStatus(db)).find((s) => s.name === 'analytics')?.lagEvents === 0);
    const after = await outcomes();
    const cancelled = 375 + Math.ceil(added / 4);
    expect(after).toEqual([
      { status: 'CANCELLED', orders: cancelled },
      { status: 'COMPLETED', orders: 1500 + added - cancelled },
    ]);
    expect((await subscriptionStatus(db)).map((s) => s.name)).toEqual(['analytics']);
  }, 120_000);

  it('commerce archive --older-than 90d moves the streams of orders final that long, with JSON progress lines', async () => {
    const rebuilt = await rebuildOrderProjections(db);
    expect(rebuilt).toBeGreaterThan(1500);
    const bad = cli(t.url, 'archive', '--older-than', 'soon');
    expect(await bad.exited).toBe(2);
    await db.query("UPDATE orders SET updated_at = updated_at - interval '91 days'");
    const run = cli(t.url, 'archive', '--older-than', '90d', '--json');
    expect(await run.exited).toBe(0);
    const lines = run.lines.map((l) => JSON.parse(l) as { orders: number; total: number; done: boolean });
    expect(lines.at(-1)).toMatchObject({ orders: rebuilt, total: rebuilt, done: true });
    const left = await db.query<{ hot: number; archived: number }>(
      `SELECT (SELECT count(*)::int FROM events) AS hot, (SELECT count(*)::int FROM events_archive) AS archived`,
    );
    expect(left.rows[0]).toEqual({ hot: 0, archived: 3 * rebuilt });
    const again = cli(t.url, 'archive', '--older-than', '90d', '--json');
    expect(await again.exited).toBe(0);
    expect(JSON.parse(again.lines.at(-1) as string)).toMatchObject({ orders: 0, total: 0, done: true });
  }, 120_000);
});
