/**
 * commitChange / commitEffect on both databases: one transaction per effect (all of it or nothing), the inbox
 * de-duplicating, guarded writes refusing the whole effect, conflicts decided again, Idempotency-Keys answered
 * again; and on pg, an order creation (key, append, read-model row, deadline, outbox) in ONE round trip.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWith } from '../../../test/support/services.js';
import type { OutgoingMessage } from './bus/port.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { PgliteDatabase } from './db/pglite.js';
import type { Database, Queryable } from './db/port.js';
import { MemoryDedupCache } from './dedup.js';
import { commitChange, commitEffect, type Decision, type Effect, EffectRefused } from './effect.js';
import { readStream } from './eventStore.js';
import { createLogger } from './log.js';
import { inboxDuplicatesTotal } from './metrics.js';
import { KERNEL_MIGRATIONS } from './schema.js';

const log = createLogger({ level: 'silent' });
const AT = new Date('2026-01-01T00:00:00.000Z');

const TABLES = `
CREATE TABLE IF NOT EXISTS views (id uuid PRIMARY KEY, status text NOT NULL);
CREATE TABLE IF NOT EXISTS deadlines (id uuid PRIMARY KEY, due_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS balances (id text PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
`;

function message(orderId: string, eventId = randomUUID()): OutgoingMessage {
  return {
    exchange: 'order_events',
    routingKey: 'order.created',
    envelope: {
      eventId,
      eventType: 'ORDER_CREATED',
      schemaVersion: 1,
      occurredAt: AT.toISOString(),
      orderId,
      causationId: null,
      source: 'order',
      data: {},
    },
  };
}

/** The writes of an order's creation, as the order service's effect has them. */
function creation(orderId: string, key?: string): Decision<string> {
  const eventId = randomUUID();
  return {
    result: orderId,
    effect: {
      idempotencyKey: key
        ? { claim: { scope: 'cust-1', key, requestHash: 'h1' }, answer: { orderId }, at: AT }
        : undefined,
      appends: [
        {
          streamId: `order-${orderId}`,
          expectedVersion: 0,
          events: [{ eventId, eventType: 'ORDER_CREATED', data: {}, occurredAt: AT }],
        },
      ],
      writes: [
        { sql: 'INSERT INTO views (id, status) VALUES ($1, $2)', params: [orderId, 'PENDING'] },
        { sql: 'INSERT INTO deadlines (id, due_at) VALUES ($1, $2)', params: [orderId, AT] },
      ],
      outbox: [message(orderId, eventId)],
    },
  };
}

/** Rows of a table (a constant of this file) that match a parameterized condition. */
const count = async (db: Queryable, from: string, params: unknown[] = []) =>
  // sql-identifier-ok: `from` is a constant table-and-condition string of this test, its values are parameters
  Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${from}`, params)).rows[0]?.n);

function effectContract(name: string, open: () => Promise<{ db: Database; drop(): Promise<void> }>) {
  describe(`effects on ${name}`, () => {
    let db: Database;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await open());
      await migrate(db, 'kernel', KERNEL_MIGRATIONS);
      await db.exec(TABLES);
    });
    afterAll(async () => {
      await db?.close();
      await drop?.();
    });

    it('commits an order creation whole: event, rows, deadline and outbox message', async () => {
      const id = randomUUID();
      const out = await commitEffect(db, creation(id));
      expect(out).toEqual({ kind: 'applied', result: id });
      expect((await readStream(db, `order-${id}`)).map((e) => e.eventType)).toEqual(['ORDER_CREATED']);
      expect(await count(db, 'views WHERE id = $1', [id])).toBe(1);
      expect(await count(db, 'deadlines WHERE id = $1', [id])).toBe(1);
      expect(await count(db, 'outbox WHERE partition_key = $1', [id])).toBe(1);
    });

    it('commits nothing of an effect when one of its writes fails', async () => {
      const id = randomUUID();
      const failing = creation(id);
      const effect: Effect = {
        ...failing.effect,
        writes: [...(failing.effect.writes ?? []), { sql: 'INSERT INTO no_such_table VALUES ($1)', params: [id] }],
      };
      await expect(commitEffect(db, { effect, result: id })).rejects.toThrow(/no_such_table/);
      expect(await count(db, 'events WHERE stream_id = $1', [`order-${id}`])).toBe(0);
      expect(await count(db, 'views WHERE id = $1', [id])).toBe(0);
      expect(await count(db, 'outbox WHERE partition_key = $1', [id])).toBe(0);
    });

    it('refuses the whole effect when a guarded write touches no row, naming its reason', async () => {
      const account = `acct-${randomUUID()}`;
      await db.query('INSERT INTO balances (id, balance) VALUES ($1, 100)', [account]);
      const deduct = (amount: number, orderId: string): Decision<number> => ({
        result: amount,
        effect: {
          writes: [
            {
              sql: 'UPDATE balances SET balance = balance - $2 WHERE id = $1 AND balance >= $2 RETURNING 1',
              params: [account, amount],
              refusal: 'INSUFFICIENT_FUNDS',
            },
          ],
          outbox: [message(orderId)],
        },
      });
      await expect(commitEffect(db, deduct(60, randomUUID()))).resolves.toEqual({ kind: 'applied', result: 60 });
      const refusedOrder = randomUUID();
      const refused = commitEffect(db, deduct(60, refusedOrder));
      await expect(refused).rejects.toBeInstanceOf(EffectRefused);
      await expect(refused).rejects.toMatchObject({ refusal: 'INSUFFICIENT_FUNDS' });
      const balance = await db.query<{ balance: number }>('SELECT balance FROM balances WHERE id = $1', [account]);
      expect(balance.rows[0]?.balance).toBe(40);
      expect(await count(db, 'outbox WHERE partition_key = $1', [refusedOrder])).toBe(0);
    });

    it('applies a message once: a second delivery is a duplicate, with or without the dedup cache', async () => {
      const id = randomUUID();
      const messageId = randomUUID();
      const dedup = new MemoryDedupCache();
      let decisions = 0;
      const consumer = `test.consumer.${randomUUID()}`;
      const absorbed = async () =>
        (await inboxDuplicatesTotal.get()).values.find((v) => v.labels.consumer === consumer)?.value ?? 0;
      const change = {
        inbox: { consumer, messageId },
        load: async (q: Queryable) => count(q, 'views WHERE id = $1', [id]),
        decide: (seen: number): Decision<number> => {
          decisions++;
          return {
            result: seen,
            effect: { writes: [{ sql: 'INSERT INTO views (id, status) VALUES ($1, $2)', params: [id, 'SEEN'] }] },
          };
        },
      };
      expect(await commitChange(db, change, { dedup })).toEqual({ kind: 'applied', result: 0 });
      // A redelivery: the cache knew it, before any transaction.
      expect(await commitChange(db, change, { dedup, maybeHandled: true })).toEqual({ kind: 'duplicate' });
      expect(await commitChange(db, change)).toEqual({ kind: 'duplicate' }); // the inbox row decided
      expect(await count(db, 'views WHERE id = $1', [id])).toBe(1);
      expect(decisions).toBe(1);
      // Both second deliveries are counted (commerce_inbox_duplicates_total on /metrics).
      expect(await absorbed()).toBe(2);
    });

    it('loads and decides again when another writer appended to the stream first', async () => {
      const id = randomUUID();
      const stream = `order-${id}`;
      await commitEffect(db, creation(id));
      // A rival's event lands at version 2; the first load read the stream before it (version 1), the next ones
      // read what is there.
      await db.query(
        `INSERT INTO events (stream_id, version, event_id, event_type, data, occurred_at)
         VALUES ($1, 2, $2, 'RIVAL', '{}', $3)`,
        [stream, randomUUID(), AT],
      );
      let loads = 0;
      const out = await commitChange(db, {
        load: async (q) => {
          loads++;
          const version = (await readStream(q, stream)).length;
          return loads === 1 ? version - 1 : version;
        },
        decide: (version: number) => ({
          result: version,
          effect: {
            appends: [
              {
                streamId: stream,
                expectedVersion: version,
                events: [{ eventId: randomUUID(), eventType: 'NEXT', data: {}, occurredAt: AT }],
              },
            ],
          },
        }),
      });
      expect(out).toEqual({ kind: 'applied', result: 2 });
      expect(loads).toBe(2);
      expect((await readStream(db, stream)).map((e) => e.eventType)).toEqual(['ORDER_CREATED', 'RIVAL', 'NEXT']);
    });

    it('answers a retried Idempotency-Key with the first answer, and another request with key-reused', async () => {
      const key = `key-${randomUUID()}`;
      const first = randomUUID();
      expect(await commitEffect(db, creation(first, key))).toEqual({ kind: 'applied', result: first });
      expect(await commitEffect(db, creation(randomUUID(), key))).toEqual({
        kind: 'replayed',
        answer: { orderId: first },
      });
      const other = creation(randomUUID(), key);
      const claim = other.effect.idempotencyKey;
      if (claim) claim.claim = { ...claim.claim, requestHash: 'h2' };
      expect(await commitEffect(db, other)).toEqual({ kind: 'key-reused' });
      expect(await count(db, 'idempotency_keys WHERE idempotency_key = $1', [key])).toBe(1);
    });
  });
}

effectContract('PGlite', async () => ({ db: await PgliteDatabase.open(), drop: async () => {} }));

describeWith(['postgres'], 'effects on PostgreSQL', () => {
  effectContract('pg', async () => {
    const t = await createTestDatabase('effect');
    return { db: new PgDatabase({ url: t.url, poolSize: 4, log }), drop: t.drop };
  });

  it('sends an order creation, BEGIN to COMMIT, in one round trip', async () => {
    const t = await createTestDatabase('effrt');
    const db = new PgDatabase({ url: t.url, poolSize: 2, log });
    try {
      await migrate(db, 'kernel', KERNEL_MIGRATIONS);
      await db.exec(TABLES);
      const id = randomUUID();
      const before = db.roundTrips;
      await commitEffect(db, creation(id, `key-${id}`));
      expect(db.roundTrips - before).toBe(1);
      expect(await count(db, 'outbox WHERE partition_key = $1', [id])).toBe(1);
      // A change that loads first: the load, then the writes with the COMMIT.
      const loaded = db.roundTrips;
      await commitChange(db, {
        inbox: { consumer: 'rt', messageId: randomUUID() },
        load: (q) => count(q, 'views WHERE id = $1', [id]),
        decide: (n: number) => ({
          result: n,
          effect: { writes: [{ sql: 'UPDATE views SET status = $2 WHERE id = $1', params: [id, 'CONFIRMED'] }] },
        }),
      });
      expect(db.roundTrips - loaded).toBe(2);
    } finally {
      await db.close();
      await t.drop();
    }
  });
});
