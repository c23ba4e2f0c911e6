import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../test/support/services.js';
import { RecordingBus } from '../test-fixtures/recordingBus.js';
import type { OutgoingMessage } from './bus/port.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { PgliteDatabase } from './db/pglite.js';
import type { Database } from './db/port.js';
import {
  appendToStream,
  ConcurrencyError,
  LOG_START,
  type NewEvent,
  positionOf,
  readAll,
  readStream,
  type StoredEvent,
} from './eventStore.js';
import { createLogger } from './log.js';
import { enqueueOutbox, outboxStatus } from './outbox.js';
import { OutboxRelay } from './outboxRelay.js';
import { KERNEL_MIGRATIONS } from './schema.js';

const log = createLogger({ level: 'silent' });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function newEvent(type: string, data: unknown, extra: Partial<NewEvent> = {}): NewEvent {
  return { eventId: randomUUID(), eventType: type, data, occurredAt: '2024-05-01T10:00:00.000Z', ...extra };
}

function messageOf(orderId: string, e: NewEvent): OutgoingMessage {
  return {
    exchange: 'order_events',
    routingKey: 'order.test',
    envelope: {
      eventId: e.eventId,
      eventType: e.eventType,
      schemaVersion: 1,
      occurredAt: String(e.occurredAt),
      orderId,
      causationId: null,
      source: 'test',
      data: e.data,
    },
  };
}

interface Backend {
  name: string;
  open(): Promise<Database>;
  cleanup(): Promise<void>;
  /** Real concurrency (pg) or serialized on one connection (PGlite). */
  concurrent: boolean;
}

function eventStoreContract(b: Backend) {
  describe(`event store on ${b.name}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await b.open();
      await migrate(db, 'kernel', KERNEL_MIGRATIONS);
    });
    afterAll(async () => {
      await db?.close();
      await b.cleanup();
    });

    it('appends and reads a stream oldest first, with causationId and traceparent in the metadata', async () => {
      const stream = `order-${randomUUID()}`;
      const cause = randomUUID();
      const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const first = await db.transaction((tx) =>
        appendToStream(tx, stream, 0, [
          newEvent('ORDER_CREATED', { n: 1 }, { causationId: null, traceparent: tp }),
          newEvent('ORDER_CONFIRMED', { n: 2 }, { causationId: cause }),
        ]),
      );
      expect(first.map((e) => e.version)).toEqual([1, 2]);
      await db.transaction((tx) => appendToStream(tx, stream, 2, [newEvent('ORDER_COMPLETED', { n: 3 })]));
      const all = await readStream(db, stream);
      expect(all.map((e) => [e.version, e.eventType, e.data])).toEqual([
        [1, 'ORDER_CREATED', { n: 1 }],
        [2, 'ORDER_CONFIRMED', { n: 2 }],
        [3, 'ORDER_COMPLETED', { n: 3 }],
      ]);
      expect(all[0]?.metadata).toEqual({ causationId: null, traceparent: tp });
      expect(all[1]?.metadata.causationId).toBe(cause);
      expect(all[0]?.occurredAt).toBe('2024-05-01T10:00:00.000Z');
      expect((await readStream(db, stream, 3)).map((e) => e.version)).toEqual([3]);
    });

    it('refuses a stale or future expected version with ConcurrencyError and writes nothing', async () => {
      const stream = `order-${randomUUID()}`;
      await db.transaction((tx) => appendToStream(tx, stream, 0, [newEvent('A', {})]));
      for (const expected of [0, 5]) {
        const err = await db
          .transaction((tx) => appendToStream(tx, stream, expected, [newEvent('B', {})]))
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConcurrencyError);
        expect(err).toMatchObject({ streamId: stream, expectedVersion: expected, actualVersion: 1 });
      }
      expect(await readStream(db, stream)).toHaveLength(1);
      await expect(db.transaction((tx) => appendToStream(tx, stream, -1, [newEvent('B', {})]))).rejects.toThrow(
        /expectedVersion/,
      );
      await expect(
        db.transaction((tx) => appendToStream(tx, stream, 1, [{ ...newEvent('B', {}), eventId: 'nope' }])),
      ).rejects.toThrow(/events\[0\]\.eventId must be a UUID/);
    });

    it('(b) two appends at the same expected version, 100 times: exactly one wins each time', async () => {
      const stream = `order-${randomUUID()}`;
      let conflicts = 0;
      for (let v = 0; v < 100; v++) {
        const attempt = (who: string) =>
          db.transaction(async (tx) => {
            const stored = await appendToStream(tx, stream, v, [newEvent('STEP', { who, v })]);
            // Hold the transaction a moment so that the rival's insert meets the uncommitted row.
            await pause(1);
            return stored;
          });
        const results = await Promise.allSettled([attempt('a'), attempt('b')]);
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(1);
        expect(lost[0]?.reason).toBeInstanceOf(ConcurrencyError);
        expect(lost[0]?.reason).toMatchObject({ streamId: stream, expectedVersion: v });
        conflicts++;
      }
      expect(conflicts).toBe(100);
      const events = await readStream(db, stream);
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    });

    it('(a) 8 concurrent writers × 500 events: readAll and the outbox relay each see every event exactly once', async () => {
      const WRITERS = 8;
      const PER_WRITER = 500;
      const total = WRITERS * PER_WRITER;
      const written = new Set<string>();
      const bus = new RecordingBus();
      const relay = new OutboxRelay({ db, bus, log, batchSize: 200, pollIntervalMs: 60_000 });
      await relay.start();

      const readerSeen: StoredEvent[] = [];
      const reader = (async () => {
        let pos = LOG_START;
        let mineSeen = 0;
        const deadline = Date.now() + 50_000;
        // Until every written event was read (or the deadline): the assertions below say what is missing.
        while (mineSeen < total && Date.now() < deadline) {
          const batch = await readAll(db, pos, 300);
          const last = batch[batch.length - 1];
          if (!last) {
            await pause(2);
            continue;
          }
          readerSeen.push(...batch);
          mineSeen += batch.filter((e) => e.eventType === 'WRITE').length;
          pos = positionOf(last);
        }
        // One more read: nothing beyond the written events may come (no duplicates).
        readerSeen.push(...(await readAll(db, pos, 300)));
      })();

      const started = Date.now();
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        const orderId = randomUUID();
        const stream = `order-${orderId}`;
        let version = 0;
        while (version < PER_WRITER) {
          const n = Math.min(PER_WRITER - version, 1 + Math.floor(Math.random() * 3));
          const events = Array.from({ length: n }, (_, i) => newEvent('WRITE', { w, seq: version + i + 1 }));
          await db.transaction(async (tx) => {
            await appendToStream(tx, stream, version, events);
            await enqueueOutbox(
              tx,
              events.map((e) => messageOf(orderId, e)),
            );
            // Positions are taken; commit late, after others have committed larger ones. (PGlite has
            // one connection: a pause would only hold every other writer up.)
            if (b.concurrent && Math.random() < 0.5) await pause(Math.floor(Math.random() * 3));
          });
          for (const e of events) written.add(e.eventId);
          version += n;
        }
      });
      await Promise.all(writers);
      const writeMs = Date.now() - started;
      await reader;
      await waitFor(async () => bus.received.length >= total && (await outboxStatus(db)).unpublished === 0, {
        timeoutMs: 30_000,
        what: 'the relay to publish every row',
      });
      await relay.stop();

      expect(written.size).toBe(total);
      // readAll: every event exactly once.
      const everything = readerSeen.map((e) => e.eventId);
      expect(new Set(everything).size).toBe(everything.length);
      const mine = readerSeen.filter((e) => e.eventType === 'WRITE');
      const readerIds = mine.map((e) => e.eventId);
      expect(readerIds).toHaveLength(total);
      expect(new Set(readerIds)).toEqual(written);
      // …in an order that keeps each stream's versions ascending.
      const lastVersion = new Map<string, number>();
      for (const e of mine) {
        expect(e.version).toBe((lastVersion.get(e.streamId) ?? 0) + 1);
        lastVersion.set(e.streamId, e.version);
      }
      // The relay: every row exactly once, per-order publication order kept.
      const relayIds = bus.received.map((m) => m.envelope.eventId);
      expect(relayIds).toHaveLength(total);
      expect(new Set(relayIds)).toEqual(written);
      const lastSeq = new Map<string, number>();
      for (const m of bus.received) {
        const seq = (m.envelope.data as { seq: number }).seq;
        expect(seq).toBe((lastSeq.get(m.envelope.orderId) ?? 0) + 1);
        lastSeq.set(m.envelope.orderId, seq);
      }
      // How often a transaction committed after a larger position was already visible: each such
      // event would have been skipped by a reader of "global_position > last seen".
      let lateCommits = 0;
      let maxPos = 0;
      for (const e of readerSeen) {
        if (e.globalPosition < maxPos) lateCommits++;
        maxPos = Math.max(maxPos, e.globalPosition);
      }
      console.log(
        `[${b.name}] ${total} events by ${WRITERS} writers in ${writeMs} ms; ${lateCommits} returned after a larger position; relay batches ${bus.batches.length}`,
      );
      if (b.concurrent) expect(lateCommits).toBeGreaterThan(0);
    });
  });
}

eventStoreContract({
  name: 'PGlite',
  open: () => PgliteDatabase.open(),
  cleanup: async () => {},
  concurrent: false,
});

describeWith(['postgres'], 'event store on PostgreSQL', () => {
  let testDb: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  eventStoreContract({
    name: 'pg',
    open: async () => {
      testDb = await createTestDatabase('evstore');
      return new PgDatabase({ url: testDb.url, poolSize: 12, log });
    },
    cleanup: async () => testDb?.drop(),
    concurrent: true,
  });

  it('never returns a transaction that committed early before an older one still running (late commit)', async () => {
    const t = await createTestDatabase('evlate');
    const db = new PgDatabase({ url: t.url, poolSize: 4, log });
    try {
      await migrate(db, 'kernel', KERNEL_MIGRATIONS);
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let slowAppended!: () => void;
      const appended = new Promise<void>((r) => {
        slowAppended = r;
      });
      const slow = db.transaction(async (tx) => {
        await appendToStream(tx, 'slow', 0, [newEvent('SLOW', {})]);
        slowAppended();
        await gate;
      });
      await appended;
      const [fast] = await db.transaction((tx) => appendToStream(tx, 'fast', 0, [newEvent('FAST', {})]));
      // The naive reader would already see FAST (larger position) and later skip SLOW.
      const naive = await db.query<{ stream_id: string }>('SELECT stream_id FROM events ORDER BY global_position');
      expect(naive.rows.map((r) => r.stream_id)).toEqual(['fast']);
      expect(await readAll(db, LOG_START, 10)).toEqual([]);
      release();
      await slow;
      // Other transactions on the same cluster (parallel tests) may hold the horizon back a little longer: wait for it.
      const after = await waitFor(
        async () => {
          const events = await readAll(db, LOG_START, 10);
          return events.length >= 2 ? events : undefined;
        },
        { what: 'both events to be readable' },
      );
      expect(after.map((e) => e.streamId)).toEqual(['slow', 'fast']);
      expect(after[0]?.globalPosition).toBeLessThan(fast?.globalPosition ?? 0);
    } finally {
      await db.close();
      await t.drop();
    }
  });
});
