import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../test/support/services.js';
import { APPLIED_TABLE, appendConcurrently, appliedCheck } from '../test-fixtures/subscriptionProjection.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { createLogger } from './log.js';
import { KERNEL_MIGRATIONS } from './schema.js';
import { subscriptionStatus } from './subscriptionStore.js';

const log = createLogger({ level: 'silent' });
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const childScript = fileURLToPath(new URL('../test-fixtures/subscriptionChild.ts', import.meta.url));
const LEASE_MS = 2000;

interface Child {
  proc: ChildProcess;
  instanceId: string;
  leader: boolean;
  /** When it last became leader (Date.now()). */
  leaderSince?: number;
  exited: Promise<NodeJS.Signals | null>;
}

describeWith(['postgres'], 'a subscription process killed, restarted, taken over', () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: PgDatabase;
  const children: Child[] = [];

  function spawnChild(): Child {
    const instanceId = `sub-${randomUUID().slice(0, 8)}`;
    const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', childScript], {
      cwd: repoRoot,
      env: { ...process.env, DB_URL: testDb.url, INSTANCE_ID: instanceId, LEASE_MS: String(LEASE_MS) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const child: Child = {
      proc,
      instanceId,
      leader: false,
      exited: new Promise((resolve) => proc.once('exit', (_code, signal) => resolve(signal))),
    };
    proc.on('message', (m: { leader?: boolean }) => {
      if (m.leader === undefined) return;
      child.leader = m.leader;
      if (m.leader) child.leaderSince = Date.now();
    });
    children.push(child);
    return child;
  }

  async function kill(child: Child): Promise<void> {
    child.proc.kill('SIGKILL');
    expect(await child.exited).toBe('SIGKILL');
  }

  const applied = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM applied')).rows[0]?.n ?? 0;

  beforeAll(async () => {
    testDb = await createTestDatabase('subkill');
    db = new PgDatabase({ url: testDb.url, log, poolSize: 10 });
    await migrate(db, 'kernel', KERNEL_MIGRATIONS);
    await db.exec(APPLIED_TABLE);
  });
  afterEach(async () => {
    for (const c of children.splice(0))
      if (c.proc.exitCode === null && c.proc.signalCode === null) {
        c.proc.kill('SIGKILL');
        await c.exited;
      }
    await db.exec('TRUNCATE applied; DELETE FROM subscription_checkpoints; DELETE FROM events');
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  it('applies 5,000 events of 8 concurrent writers exactly once, in stream order, though SIGKILLed twice', async () => {
    let child = spawnChild();
    const writing = appendConcurrently(db, { writers: 8, total: 5000 });
    for (const threshold of [800, 2500]) {
      await waitFor(async () => (await applied()) >= threshold, { timeoutMs: 90_000, what: `${threshold} applied` });
      await kill(child);
      child = spawnChild();
    }
    await writing;
    await waitFor(async () => (await applied()) >= 5000, { timeoutMs: 90_000, what: 'all 5,000 applied' });
    // Settled: nothing more arrives after the last event.
    await waitFor(async () => (await subscriptionStatus(db))[0]?.lagEvents === 0, { what: 'no lag' });
    expect(await appliedCheck(db)).toEqual({ rows: 5000, distinct: 5000, missing: 0, outOfOrder: [] });
    expect((await subscriptionStatus(db))[0]).toMatchObject({ handled: 5000, owner: child.instanceId });
  }, 240_000);

  it('moves to the other process within the lease time plus 2 s when the leader is SIGKILLed', async () => {
    const a = spawnChild();
    const b = spawnChild();
    const leader = await waitFor(() => children.find((c) => c.leader), { timeoutMs: 30_000, what: 'a leader' });
    const follower = leader === a ? b : a;
    await appendConcurrently(db, { writers: 2, total: 100 });
    await waitFor(async () => (await applied()) === 100, { what: 'the leader applying' });

    const killedAt = Date.now();
    await kill(leader);
    await waitFor(() => follower.leader, { timeoutMs: LEASE_MS + 10_000, what: 'the take-over' });
    const tookOverAfter = (follower.leaderSince as number) - killedAt;
    expect(tookOverAfter).toBeLessThan(LEASE_MS + 2000);

    await appendConcurrently(db, { writers: 2, total: 100 });
    await waitFor(async () => (await applied()) === 200, { what: 'the new leader applying' });
    expect(await appliedCheck(db)).toEqual({ rows: 200, distinct: 200, missing: 0, outOfOrder: [] });
    expect((await subscriptionStatus(db))[0]?.owner).toBe(follower.instanceId);
  }, 120_000);
});
