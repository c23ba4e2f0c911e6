import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../test/support/services.js';
import {
  APPLIED_TABLE,
  appendConcurrently,
  appliedCheck,
  recordApplied,
} from '../test-fixtures/subscriptionProjection.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { PgliteDatabase } from './db/pglite.js';
import type { Database } from './db/port.js';
import { appendToStream, type StoredEvent } from './eventStore.js';
import { createLogger } from './log.js';
import { KERNEL_MIGRATIONS } from './schema.js';
import { EventSubscription, type SubscriptionDefinition, type SubscriptionOptions } from './subscription.js';
import { listParkedEvents, resumeSubscription, subscriptionStatus } from './subscriptionStore.js';

const log = createLogger({ level: 'silent' });

async function appendOne(db: Database, type: string, stream = randomUUID()): Promise<string> {
  const eventId = randomUUID();
  await db.transaction((tx) =>
    appendToStream(tx, stream, 0, [{ eventId, eventType: type, data: {}, occurredAt: new Date() }]),
  );
  return eventId;
}

const appliedCount = async (db: Database) =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM applied')).rows[0]?.n ?? 0;

/** The same behaviour on both adapters. */
function subscriptionSuite(open: () => Promise<{ db: Database; drop(): Promise<void> }>): void {
  let db: Database;
  let drop: () => Promise<void>;
  const running: EventSubscription[] = [];

  async function run(def: Partial<SubscriptionDefinition> = {}, o: Partial<SubscriptionOptions> = {}) {
    const s = new EventSubscription(
      { name: 'projection', onFailure: 'park', handle: recordApplied, ...def },
      { db, instanceId: randomUUID(), leaseMs: 3000, pollIntervalMs: 60_000, retryBaseMs: 10, log, ...o },
    );
    running.push(s);
    await s.start();
    return s;
  }

  beforeAll(async () => {
    ({ db, drop } = await open());
    await migrate(db, 'kernel', KERNEL_MIGRATIONS);
    await db.exec(APPLIED_TABLE);
  });
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
    await db.exec('TRUNCATE applied, subscription_parked; DELETE FROM subscription_checkpoints; DELETE FROM events');
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  it('applies 5,000 events of 8 concurrent writers exactly once, in stream order, across two restarts', async () => {
    let s = await run({}, { batchSize: 100 });
    const writing = appendConcurrently(db, { writers: 8, total: 5000 });
    // Restarted twice while the writers run (a new instance each time, from the stored checkpoint).
    for (const threshold of [1000, 2500]) {
      await waitFor(async () => (await appliedCount(db)) >= threshold, { timeoutMs: 60_000, what: `${threshold}` });
      await s.stop();
      s = await run({}, { batchSize: 100 });
    }
    await writing;
    await waitFor(async () => (await appliedCount(db)) >= 5000, { timeoutMs: 60_000, what: 'all 5,000 events' });
    const [status] = await subscriptionStatus(db);
    expect(status).toMatchObject({ name: 'projection', handled: 5000, lagEvents: 0, state: 'running', parked: 0 });
    expect(await appliedCheck(db)).toEqual({ rows: 5000, distinct: 5000, missing: 0, outOfOrder: [] });
  }, 180_000);

  it('follows live events woken by NOTIFY, not by its poll (one minute here)', async () => {
    await run();
    await appendOne(db, 'TEST_EVENT');
    await waitFor(async () => (await appliedCount(db)) === 1, { what: 'the first event' });
    const started = Date.now();
    await appendOne(db, 'TEST_EVENT');
    await waitFor(async () => (await appliedCount(db)) === 2, { timeoutMs: 5000, what: 'the NOTIFY wake-up' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('with gatherMs, reads the events of many commits in one batch (one transaction) after a wake-up', async () => {
    const batches: number[] = [];
    await run({}, { gatherMs: 300, onBatch: (b) => batches.push(b.events) });
    await appendOne(db, 'TEST_EVENT');
    await waitFor(async () => (await appliedCount(db)) === 1, { what: 'the first event' });
    batches.length = 0;
    // Ten commits one after another, well inside the gathering time once the first one woke it.
    for (let i = 0; i < 10; i++) await appendOne(db, 'TEST_EVENT');
    await waitFor(async () => (await appliedCount(db)) === 11, { what: 'the ten events' });
    expect(batches.reduce((a, b) => a + b, 0)).toBe(10);
    expect(batches.length).toBeLessThanOrEqual(2);
  });

  it('retries a failing event with backoff, then parks it with its reason and goes on', async () => {
    let attempts = 0;
    await run({
      maxAttempts: 3,
      async handle(events: readonly StoredEvent[], tx) {
        for (const e of events)
          if (e.eventType === 'POISON') {
            attempts++;
            throw new Error('cannot digest POISON');
          }
        await recordApplied(events, tx);
      },
    });
    await appendOne(db, 'TEST_EVENT');
    const poison = await appendOne(db, 'POISON');
    await appendOne(db, 'TEST_EVENT');
    await waitFor(async () => (await appliedCount(db)) === 2, { what: 'the events around the poison' });
    const parked = await listParkedEvents(db, 'projection');
    expect(parked).toMatchObject([
      { eventId: poison, eventType: 'POISON', attempts: 3, reason: 'cannot digest POISON' },
    ]);
    // The poison alone three times, plus once in a batch when it came with others (no attempt counted): never more.
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(4);
    expect((await subscriptionStatus(db))[0]).toMatchObject({ handled: 3, lagEvents: 0, parked: 1, state: 'running' });
  });

  it('stops at a failing event when its definition says so, and goes on once resumed', async () => {
    let cured = false;
    await run({
      onFailure: 'stop',
      maxAttempts: 2,
      async handle(events, tx) {
        if (!cured && events.some((e) => e.eventType === 'POISON')) throw new Error('not yet');
        await recordApplied(events, tx);
      },
    });
    await appendOne(db, 'TEST_EVENT');
    const poison = await appendOne(db, 'POISON');
    await appendOne(db, 'TEST_EVENT');
    const stopped = await waitFor(async () => {
      const [s] = await subscriptionStatus(db);
      return s?.state === 'stopped' ? s : undefined;
    });
    expect(stopped).toMatchObject({ failingEventId: poison, failingAttempts: 1, lagEvents: 2, parked: 0 });
    expect(stopped.lastError).toContain('not yet');
    expect(await appliedCount(db)).toBe(1);
    cured = true;
    expect(await resumeSubscription(db, 'projection')).toBe(true);
    await waitFor(async () => (await appliedCount(db)) === 3, { what: 'the events after the resume' });
    expect((await subscriptionStatus(db))[0]).toMatchObject({ state: 'running', lagEvents: 0, failingEventId: null });
  });

  it('gives the handler only the event types it asked for, and passes the checkpoint over the others', async () => {
    await run({ eventTypes: ['WANTED'] });
    await appendOne(db, 'OTHER');
    const wanted = await appendOne(db, 'WANTED');
    await appendOne(db, 'OTHER');
    await waitFor(async () => (await subscriptionStatus(db))[0]?.lagEvents === 0 && (await appliedCount(db)) === 1);
    const rows = await db.query<{ event_id: string }>('SELECT event_id::text AS event_id FROM applied');
    expect(rows.rows).toEqual([{ event_id: wanted }]);
    expect((await subscriptionStatus(db))[0]?.handled).toBe(3);
  });

  it('runs on one instance at a time: a second waits for the lease', async () => {
    const a = await run();
    const b = await run();
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    await appendOne(db, 'TEST_EVENT');
    await waitFor(async () => (await appliedCount(db)) === 1);
    await a.stop();
    // A stop frees the lease at once: the other takes it at its next heartbeat (lease / 3).
    await waitFor(() => b.isLeader(), { timeoutMs: 3000, what: 'the take-over' });
    await appendOne(db, 'TEST_EVENT');
    await waitFor(async () => (await appliedCount(db)) === 2);
    expect((await appliedCheck(db)).distinct).toBe(2);
  });
}

describe('checkpointed subscriptions on PGlite', () => {
  subscriptionSuite(async () => ({ db: await PgliteDatabase.open(), drop: async () => {} }));
});

describeWith(['postgres'], 'checkpointed subscriptions on PostgreSQL', () => {
  subscriptionSuite(async () => {
    const t = await createTestDatabase('subs');
    return { db: new PgDatabase({ url: t.url, log, poolSize: 10 }), drop: t.drop };
  });
});
