import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../test/support/services.js';
import { testMessage } from '../test-fixtures/outboxMessages.js';
import { RecordingBus } from '../test-fixtures/recordingBus.js';
import type { OutgoingMessage } from './bus/port.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { PgliteDatabase } from './db/pglite.js';
import type { Database } from './db/port.js';
import { commitEffect } from './effect.js';
import { createLogger } from './log.js';
import { enqueueOutbox, outboxStatus } from './outbox.js';
import { outboxDispatcherOf } from './outboxDispatch.js';
import { OutboxRelay } from './outboxRelay.js';
import { KERNEL_MIGRATIONS } from './schema.js';

const log = createLogger({ level: 'silent' });

/** Commits one effect with these messages, as a use case's change would. */
const commit = (db: Database, messages: OutgoingMessage[]) =>
  commitEffect(db, { result: undefined, effect: { outbox: messages } });

const seqOf = (m: OutgoingMessage) => (m.envelope.data as { seq: number }).seq;

function dispatchContract(name: string, open: () => Promise<Database>, cleanup: () => Promise<void>) {
  describe(`dispatch at commit on ${name}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await open();
      await migrate(db, 'kernel', KERNEL_MIGRATIONS);
    });
    afterAll(async () => {
      await db?.close();
      await cleanup();
    });

    it('publishes committed messages at once, in commit order per order, and marks many with one statement', async () => {
      const bus = new RecordingBus();
      // A grace of a minute: whatever arrives below was dispatched at commit, not claimed by the relay.
      const relay = new OutboxRelay({ db, bus, log, dispatchAtCommit: true, graceMs: 60_000 });
      await relay.start();
      try {
        expect(outboxDispatcherOf(db)).toBe(relay.dispatcher);
        const orders = Array.from({ length: 10 }, () => randomUUID());
        // 10 orders written concurrently, 10 commits each, one after another per order.
        await Promise.all(
          orders.map(async (orderId) => {
            for (let seq = 1; seq <= 10; seq++) await commit(db, [testMessage(orderId, seq)]);
          }),
        );
        await waitFor(() => bus.received.length === 100, { what: '100 messages dispatched at commit' });
        for (const orderId of orders)
          expect(bus.received.filter((m) => m.envelope.orderId === orderId).map(seqOf)).toEqual([
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
          ]);
        await waitFor(async () => (await outboxStatus(db)).unpublished === 0, { what: 'every row marked' });
        const { counts } = relay.dispatcher!;
        expect(counts).toMatchObject({ dispatched: 100, published: 100, failed: 0, marked: 100 });
        // Marks are batched: far fewer statements than messages.
        expect(counts.markStatements).toBeLessThanOrEqual(10);
      } finally {
        await relay.stop();
      }
      expect(outboxDispatcherOf(db)).toBeUndefined();
    });

    it('leaves what it could not publish to the relay, which takes it after the grace period and not before', async () => {
      await db.query('DELETE FROM outbox');
      const bus = new RecordingBus();
      const relay = new OutboxRelay({ db, bus, log, dispatchAtCommit: true, graceMs: 400, pollIntervalMs: 50 });
      await relay.start();
      try {
        const orderId = randomUUID();
        bus.failing = true;
        const first = testMessage(orderId, 1);
        const committedAt = Date.now();
        await commit(db, [first]);
        await waitFor(() => relay.dispatcher!.counts.failed === 1, { what: 'the dispatch to fail' });
        bus.failing = false;
        // A later message of the same order goes out at once: the two swap (the consumers take that, SPEC §6).
        await commit(db, [testMessage(orderId, 2)]);
        await waitFor(() => bus.received.length === 1, { what: 'the second message dispatched' });
        expect(bus.received.map(seqOf)).toEqual([2]);
        await waitFor(() => bus.received.length === 2, { what: 'the relay to publish the first message' });
        expect(bus.received.map(seqOf)).toEqual([2, 1]);
        expect(Date.now() - committedAt).toBeGreaterThanOrEqual(400);
        await waitFor(async () => (await outboxStatus(db)).unpublished === 0, { what: 'both rows marked' });
      } finally {
        await relay.stop();
      }
    });

    it('its relay leaves alone a row whose dispatch is still waiting for its confirm past the grace period', async () => {
      await db.query('DELETE FROM outbox');
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const slow = testMessage(randomUUID(), 1);
      const attempts: string[] = [];
      const bus = new RecordingBus(async (ms) => {
        attempts.push(...ms.map((m) => m.envelope.eventId));
        if (ms.some((m) => m.envelope.eventId === slow.envelope.eventId)) await gate;
      });
      const relay = new OutboxRelay({ db, bus, log, dispatchAtCommit: true, graceMs: 200, pollIntervalMs: 50 });
      await relay.start();
      try {
        await commit(db, [slow]); // its confirm hangs
        // A row nobody dispatched, written after it: when the relay has sent this one, it has passed the slow one by.
        const orphan = testMessage(randomUUID(), 1);
        await db.transaction((tx) => enqueueOutbox(tx, [orphan]));
        await waitFor(() => bus.received.some((m) => m.envelope.eventId === orphan.envelope.eventId), {
          what: 'the relay to publish the orphan row',
        });
        expect(attempts.filter((id) => id === slow.envelope.eventId)).toHaveLength(1);
        release();
        await waitFor(async () => (await outboxStatus(db)).unpublished === 0, { what: 'both rows marked' });
        expect(attempts.filter((id) => id === slow.envelope.eventId)).toHaveLength(1);
      } finally {
        release();
        await relay.stop();
      }
    });

    it('prepared before the consumers start: what they commit is held, then sent in commit order at start', async () => {
      await db.query('DELETE FROM outbox');
      const bus = new RecordingBus();
      const relay = new OutboxRelay({ db, bus, log, dispatchAtCommit: true, graceMs: 60_000 });
      relay.prepare();
      try {
        const orderId = randomUUID();
        for (let seq = 1; seq <= 3; seq++) await commit(db, [testMessage(orderId, seq)]);
        // Nothing leaves before start (a queue it publishes to may not be subscribed yet), and no relay is needed.
        expect(bus.publishCalls).toBe(0);
        await relay.start();
        await commit(db, [testMessage(orderId, 4)]);
        await waitFor(() => bus.received.length === 4, { what: 'the held messages and the new one' });
        expect(bus.received.map(seqOf)).toEqual([1, 2, 3, 4]);
      } finally {
        await relay.stop();
      }
      expect(outboxDispatcherOf(db)).toBeUndefined();
    });

    it('off (OUTBOX_DISPATCH=relay): nothing is published at commit; the relay, woken by NOTIFY, publishes', async () => {
      await db.query('DELETE FROM outbox');
      const bus = new RecordingBus();
      const relay = new OutboxRelay({ db, bus, log, pollIntervalMs: 60_000 });
      await relay.start();
      try {
        expect(relay.dispatcher).toBeUndefined();
        expect(outboxDispatcherOf(db)).toBeUndefined();
        await commit(db, [testMessage(randomUUID(), 1)]);
        await waitFor(() => bus.received.length === 1, { what: 'the relay to publish' });
        expect(relay.notificationsReceived).toBeGreaterThan(0);
      } finally {
        await relay.stop();
      }
    });
  });
}

dispatchContract(
  'PGlite',
  () => PgliteDatabase.open(),
  async () => {},
);

describeWith(['postgres'], 'dispatch at commit on PostgreSQL', () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    testDb = await createTestDatabase('dispatch');
  });
  dispatchContract(
    'pg',
    async () => new PgDatabase({ url: testDb.url, log }),
    async () => testDb?.drop(),
  );
});
