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
import { createLogger } from './log.js';
import { enqueueOutbox, outboxStatus } from './outbox.js';
import { OutboxRelay } from './outboxRelay.js';
import { KERNEL_MIGRATIONS } from './schema.js';

const log = createLogger({ level: 'silent' });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const message = (orderId: string, seq: number) =>
  testMessage(orderId, seq, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');

/** Per order, sequence numbers 1, 2, 3… in publication order, and no message twice. */
function expectExactlyOnceInOrder(received: readonly OutgoingMessage[], expectedTotal: number): void {
  const ids = received.map((m) => m.envelope.eventId);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toHaveLength(expectedTotal);
  const last = new Map<string, number>();
  for (const m of received) {
    const seq = (m.envelope.data as { seq: number }).seq;
    expect(seq).toBe((last.get(m.envelope.orderId) ?? 0) + 1);
    last.set(m.envelope.orderId, seq);
  }
}

/** `orders` orders, `perOrder` messages each, one transaction per message, orders written concurrently. */
async function writeOrders(db: Database, orders: number, perOrder: number): Promise<void> {
  await Promise.all(
    Array.from({ length: orders }, async () => {
      const orderId = randomUUID();
      for (let seq = 1; seq <= perOrder; seq++)
        await db.transaction((tx) => enqueueOutbox(tx, [message(orderId, seq)]));
    }),
  );
}

function relayContract(name: string, open: () => Promise<Database>, cleanup: () => Promise<void>) {
  describe(`outbox relay on ${name}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await open();
      await migrate(db, 'kernel', KERNEL_MIGRATIONS);
    });
    afterAll(async () => {
      await db?.close();
      await cleanup();
    });
    const clear = () => db.query('DELETE FROM outbox');

    it('enqueues idempotently and names what is wrong with a bad message', async () => {
      await clear();
      const m = message(randomUUID(), 1);
      await db.transaction((tx) => enqueueOutbox(tx, [m, m]));
      await db.transaction((tx) => enqueueOutbox(tx, [m]));
      expect((await outboxStatus(db)).unpublished).toBe(1);
      const row = await db.query<{ partition_key: string; traceparent: string }>(
        'SELECT partition_key, traceparent FROM outbox',
      );
      expect(row.rows[0]).toEqual({ partition_key: m.envelope.orderId, traceparent: m.traceparent });
      await expect(
        db.transaction((tx) => enqueueOutbox(tx, [{ ...m, envelope: { ...m.envelope, eventId: 'x' } }])),
      ).rejects.toThrow(/messages\[0\]\.envelope\.eventId must be a UUID/);
      await expect(db.transaction((tx) => enqueueOutbox(tx, [{ ...m, exchange: '' }]))).rejects.toThrow(
        /messages\[0\]\.exchange/,
      );
    });

    it('rolls back with the transaction: nothing to publish from a failed effect', async () => {
      await clear();
      await expect(
        db.transaction(async (tx) => {
          await enqueueOutbox(tx, [message(randomUUID(), 1)]);
          throw new Error('effect failed');
        }),
      ).rejects.toThrow('effect failed');
      expect((await outboxStatus(db)).unpublished).toBe(0);
    });

    it('(g) two relays on one database never publish a row twice and keep per-order order', async () => {
      await clear();
      const received: OutgoingMessage[] = [];
      const perRelay = [0, 0];
      const busFor = (i: number) =>
        new RecordingBus(async (ms) => {
          // A publish that takes a while, so that both relays compete while rows keep arriving.
          await pause(1 + Math.floor(Math.random() * 3));
          received.push(...ms);
          perRelay[i] = (perRelay[i] ?? 0) + ms.length;
        });
      const relays = [0, 1].map((i) => new OutboxRelay({ db, bus: busFor(i), log, batchSize: 25, pollIntervalMs: 20 }));
      await Promise.all(relays.map((r) => r.start()));
      await writeOrders(db, 12, 40);
      await waitFor(async () => (await outboxStatus(db)).unpublished === 0 && received.length >= 480, {
        timeoutMs: 30_000,
        what: 'both relays to drain the outbox',
      });
      await Promise.all(relays.map((r) => r.stop()));
      expectExactlyOnceInOrder(received, 12 * 40);
      console.log(`[${name}] two relays published ${perRelay.join(' + ')} rows`);
    });

    it('never sleeps after a full batch: 1000 rows with one NOTIFY and a 60 s poll interval', async () => {
      await clear();
      const bus = new RecordingBus();
      const relay = new OutboxRelay({ db, bus, log, batchSize: 100, pollIntervalMs: 60_000 });
      await relay.start();
      const orderId = randomUUID();
      const started = Date.now();
      await db.transaction((tx) =>
        enqueueOutbox(
          tx,
          Array.from({ length: 1000 }, (_, i) => message(orderId, i + 1)),
        ),
      );
      await waitFor(() => bus.received.length >= 1000, { timeoutMs: 15_000, what: '1000 rows published' });
      const ms = Date.now() - started;
      await relay.stop();
      expectExactlyOnceInOrder(bus.received, 1000);
      expect(bus.batches.every((n) => n <= 100)).toBe(true);
      expect((await outboxStatus(db)).published).toBe(1000);
      console.log(`[${name}] 1000 rows in ${ms} ms, batches ${bus.batches.length}`);
    });

    it('keeps rows when the bus fails, backs off, and resumes by itself when the bus is back', async () => {
      await clear();
      const bus = new RecordingBus();
      bus.failing = true;
      const relay = new OutboxRelay({ db, bus, log, pollIntervalMs: 50, backoffBaseMs: 20, backoffMaxMs: 200 });
      await relay.start();
      const orderId = randomUUID();
      await db.transaction((tx) => enqueueOutbox(tx, [message(orderId, 1), message(orderId, 2)]));
      await waitFor(() => relay.failures >= 3, { what: 'three failed attempts' });
      const status = await outboxStatus(db);
      expect(status).toMatchObject({ unpublished: 2, failing: 2, published: 0 });
      const row = await db.query<{ attempts: number; last_error: string }>(
        'SELECT attempts, last_error FROM outbox ORDER BY id LIMIT 1',
      );
      expect(row.rows[0]?.attempts).toBeGreaterThanOrEqual(3);
      expect(row.rows[0]?.last_error).toContain('broker unavailable');
      // Capped exponential backoff: a few attempts, not a hot loop.
      expect(bus.publishCalls).toBeLessThan(40);
      bus.failing = false;
      await waitFor(async () => (await outboxStatus(db)).unpublished === 0, { what: 'publication after recovery' });
      await relay.stop();
      expectExactlyOnceInOrder(bus.received, 2);
      expect(relay.failures).toBe(0);
    });

    it('goes on at once when the bus announces its recovery, not at the end of a long backoff', async () => {
      await clear();
      const bus = new RecordingBus();
      bus.failing = true;
      // After the first failure the relay would wait 30–60 s.
      const relay = new OutboxRelay({
        db,
        bus,
        log,
        pollIntervalMs: 60_000,
        backoffBaseMs: 60_000,
        backoffMaxMs: 60_000,
      });
      await relay.start();
      const orderId = randomUUID();
      await db.transaction((tx) => enqueueOutbox(tx, [message(orderId, 1), message(orderId, 2)]));
      await waitFor(() => relay.failures >= 1, { what: 'a failed attempt' });
      bus.recover();
      await waitFor(async () => (await outboxStatus(db)).unpublished === 0, {
        what: 'publication right after the recovery',
        timeoutMs: 10_000,
      });
      await relay.stop();
      expectExactlyOnceInOrder(bus.received, 2);
      expect(relay.failures).toBe(0);
    });

    it('stop() finishes the batch in flight: published and marked', async () => {
      await clear();
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let entered = false;
      const bus = new RecordingBus(async () => {
        entered = true;
        await gate;
      });
      const relay = new OutboxRelay({ db, bus, log, pollIntervalMs: 50 });
      await relay.start();
      const orderId = randomUUID();
      await db.transaction((tx) => enqueueOutbox(tx, [message(orderId, 1), message(orderId, 2), message(orderId, 3)]));
      await waitFor(() => entered, { what: 'a publish in flight' });
      const stopped = relay.stop();
      release();
      await stopped;
      expect(bus.received).toHaveLength(3);
      expect(await outboxStatus(db)).toMatchObject({ unpublished: 0, published: 3 });
      // Stopped means stopped: a row enqueued now stays unpublished.
      await db.transaction((tx) => enqueueOutbox(tx, [message(orderId, 4)]));
      const before = bus.publishCalls;
      const after = await outboxStatus(db);
      expect(after.unpublished).toBe(1);
      expect(bus.publishCalls).toBe(before);
    });

    it('deletes published rows after the retention period, never unpublished ones', async () => {
      await clear();
      let clock = Date.parse('2024-01-01T00:00:00Z');
      const bus = new RecordingBus();
      const relay = new OutboxRelay({
        db,
        bus,
        log,
        pollIntervalMs: 50,
        retentionMs: 60_000,
        retentionSweepMs: 1000,
        now: () => new Date(clock),
      });
      await relay.start();
      const orderId = randomUUID();
      await db.transaction((tx) => enqueueOutbox(tx, [message(orderId, 1), message(orderId, 2)]));
      await waitFor(async () => (await outboxStatus(db)).published === 2, { what: 'two rows published' });
      bus.failing = true;
      clock += 61_000;
      await db.transaction((tx) => enqueueOutbox(tx, [message(orderId, 3)]));
      // The relay keeps failing on row 3 (kept, unpublished); once the bus is back, the sweep
      // after that batch removes rows 1 and 2 (published 61 s ago by the relay's clock).
      await waitFor(() => relay.failures >= 1, { what: 'a failed attempt' });
      bus.failing = false;
      await waitFor(
        async () => {
          const s = await outboxStatus(db);
          return s.published === 1 && s.unpublished === 0;
        },
        { what: 'retention to delete the two old rows' },
      );
      await relay.stop();
      const left = await db.query<{ seq: number }>("SELECT (envelope->'data'->>'seq')::int AS seq FROM outbox");
      expect(left.rows).toEqual([{ seq: 3 }]);
    });
  });
}

relayContract(
  'PGlite',
  () => PgliteDatabase.open(),
  async () => {},
);

describeWith(['postgres'], 'outbox on PostgreSQL', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  relayContract(
    'pg',
    async () => {
      t = await createTestDatabase('outbox');
      return new PgDatabase({ url: t.url, poolSize: 10, log });
    },
    async () => t?.drop(),
  );
});

describe('outbox relay on PGlite with an in-process bus', () => {
  it('does not deadlock when publishing runs handlers that write to the same database', async () => {
    const db = await PgliteDatabase.open();
    try {
      await migrate(db, 'kernel', KERNEL_MIGRATIONS);
      await db.exec('CREATE TABLE handled (message_id uuid PRIMARY KEY)');
      // Like the in-process bus: publish resolves after the handler committed its own transaction.
      const bus = new RecordingBus(async (ms) => {
        for (const m of ms)
          await db.transaction(async (tx) => {
            await tx.query('INSERT INTO handled (message_id) VALUES ($1)', [m.envelope.eventId]);
          });
      });
      const relays = [0, 1].map(() => new OutboxRelay({ db, bus, log, batchSize: 10, pollIntervalMs: 20 }));
      await Promise.all(relays.map((r) => r.start()));
      await writeOrders(db, 5, 20);
      await waitFor(async () => (await outboxStatus(db)).unpublished === 0 && bus.received.length >= 100, {
        what: 'all rows handled',
      });
      await Promise.all(relays.map((r) => r.stop()));
      expectExactlyOnceInOrder(bus.received, 100);
      const handled = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM handled');
      expect(handled.rows[0]?.n).toBe(100);
    } finally {
      await db.close();
    }
  });
});
