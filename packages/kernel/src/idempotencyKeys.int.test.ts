import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../test/support/services.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { PgliteDatabase } from './db/pglite.js';
import type { Database, Queryable } from './db/port.js';
import { type Committed, commitChange } from './effect.js';
import {
  findIdempotencyKey,
  type IdempotencyKeyClaim,
  IdempotencyKeyRetention,
  requestHashOf,
} from './idempotencyKeys.js';
import { createLogger } from './log.js';
import { KERNEL_MIGRATIONS } from './schema.js';

const log = createLogger({ level: 'silent' });
const DAY = 86_400_000;

function idempotencyContract(name: string, open: () => Promise<Database>, cleanup: () => Promise<void>) {
  describe(`idempotency keys on ${name}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await open();
      await migrate(db, 'kernel', KERNEL_MIGRATIONS);
      await db.exec('CREATE TABLE counters (id text PRIMARY KEY, n integer NOT NULL)');
    });
    afterAll(async () => {
      await db?.close();
      await cleanup();
    });
    const claim = (key: string, request: unknown, scope = 'ops'): IdempotencyKeyClaim => ({
      scope,
      key,
      requestHash: requestHashOf(request),
    });
    /**
     * The change under test, committed as the routes commit theirs: adds `by` to a counter (loading and locking its
     * row first, as a restock locks its product), with the key (if any) claimed in the effect. `refuse` makes the
     * decision throw (an unknown product, say).
     */
    const applyOnce = (
      db: Database,
      key: IdempotencyKeyClaim | undefined,
      at: Date,
      op: { id: string; by: number; refuse?: boolean },
    ): Promise<Committed<{ id: string; n: number }>> =>
      commitChange(db, {
        load: async (q: Queryable) =>
          (await q.query<{ n: number }>('SELECT n FROM counters WHERE id = $1 FOR UPDATE', [op.id])).rows[0]?.n ?? 0,
        decide: (n: number) => {
          if (op.refuse) throw new Error('unknown counter');
          const result = { id: op.id, n: n + op.by };
          return {
            result,
            effect: {
              idempotencyKey: key ? { claim: key, answer: result, at } : undefined,
              writes: [
                {
                  sql: 'INSERT INTO counters (id, n) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET n = counters.n + $2',
                  params: [op.id, op.by],
                },
              ],
            },
          };
        },
      });
    const add = (id: string, by: number) => ({ id, by });
    const counter = async (id: string) =>
      (await db.query<{ n: number }>('SELECT n FROM counters WHERE id = $1', [id])).rows[0]?.n;
    const keys = async (scope: string) =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_keys WHERE scope = $1', [scope]))
        .rows[0]?.n;

    it('the canonical hash ignores key order and sees every value', () => {
      expect(requestHashOf({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(requestHashOf({ b: [1, { d: 3, c: 2 }], a: 1 }));
      expect(requestHashOf({ a: 1 })).not.toBe(requestHashOf({ a: 2 }));
    });

    it('20 concurrent retries of one request: applied once, every answer the first result', async () => {
      const now = new Date();
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => applyOnce(db, claim('k-race', { add: 5 }), now, add('race', 5))),
      );
      expect(await counter('race')).toBe(5);
      expect(outcomes.filter((o) => o.kind === 'applied')).toHaveLength(1);
      expect(outcomes.filter((o) => o.kind === 'replayed')).toHaveLength(19);
      for (const o of outcomes)
        expect(o.kind === 'applied' ? o.result : o.kind === 'replayed' ? o.answer : o).toEqual({ id: 'race', n: 5 });
    });

    it('the same key with another request is refused and applies nothing; other callers have their own keys', async () => {
      const now = new Date();
      expect((await applyOnce(db, claim('k-other', { add: 1 }), now, add('other', 1))).kind).toBe('applied');
      expect(await applyOnce(db, claim('k-other', { add: 2 }), now, add('other', 2))).toEqual({ kind: 'key-reused' });
      expect(await counter('other')).toBe(1);
      expect((await applyOnce(db, claim('k-other', { add: 2 }, 'someone-else'), now, add('other', 2))).kind).toBe(
        'applied',
      );
      expect(await counter('other')).toBe(3);
    });

    it('a refusal (apply throws) records no key: a retry is applied', async () => {
      const now = new Date();
      await expect(
        applyOnce(db, claim('k-refused', { add: 1 }), now, { id: 'refused', by: 1, refuse: true }),
      ).rejects.toThrow('unknown counter');
      expect(await findIdempotencyKey(db, 'ops', 'k-refused')).toBeUndefined();
      expect((await applyOnce(db, claim('k-refused', { add: 1 }), now, add('refused', 1))).kind).toBe('applied');
    });

    it('without a key every call is applied', async () => {
      const now = new Date();
      await applyOnce(db, undefined, now, add('nokey', 1));
      await applyOnce(db, undefined, now, add('nokey', 1));
      expect(await counter('nokey')).toBe(2);
    });

    it('keys older than the retention are deleted, in batches; then the key is new again', async () => {
      const now = new Date('2030-01-10T00:00:00Z');
      const scope = 'retention';
      // 5 keys used 2 days before `now`, 2 used an hour before it; the retention is one day.
      for (let i = 0; i < 5; i++)
        await applyOnce(db, claim(`old-${i}`, { i }, scope), new Date(now.getTime() - 2 * DAY), add('ret', 1));
      for (let i = 0; i < 2; i++)
        await applyOnce(db, claim(`new-${i}`, { i }, scope), new Date(now.getTime() - 3_600_000), add('ret', 1));
      expect(await applyOnce(db, claim('old-0', { i: 'another' }, scope), now, add('ret', 1))).toEqual({
        kind: 'key-reused',
      });
      const retention = new IdempotencyKeyRetention({ db, log, retentionMs: DAY, batchSize: 2, now: () => now });
      // Other tests' keys were used at the real time (before 2030): they go too. Ours: 5 old, in batches of 2.
      expect(await retention.sweep()).toBeGreaterThanOrEqual(5);
      expect(await keys(scope)).toBe(2);
      expect(await findIdempotencyKey(db, scope, 'old-0')).toBeUndefined();
      expect(await findIdempotencyKey(db, scope, 'new-0')).toBeDefined();
      // The pruned key is new again: another request with it is applied, not refused.
      expect(await applyOnce(db, claim('old-0', { i: 'another' }, scope), now, add('ret', 1))).toMatchObject({
        kind: 'applied',
      });
      expect(await counter('ret')).toBe(8);

      // Started, it runs by itself.
      await applyOnce(db, claim('old-timed', {}, scope), new Date(now.getTime() - 2 * DAY), add('ret', 1));
      const timed = new IdempotencyKeyRetention({ db, log, retentionMs: DAY, sweepMs: 20, now: () => now });
      timed.start();
      await waitFor(async () => (await findIdempotencyKey(db, scope, 'old-timed')) === undefined, {
        what: 'the timed sweep',
      });
      await timed.stop();
      expect(await keys(scope)).toBe(3);
      expect(() => new IdempotencyKeyRetention({ db, log, retentionMs: 0 })).toThrow(
        /idempotency key retention: retentionMs must be a positive integer/,
      );
    });
  });
}

idempotencyContract(
  'PGlite',
  () => PgliteDatabase.open(),
  async () => {},
);

describeWith(['postgres'], 'idempotency keys on PostgreSQL', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  idempotencyContract(
    'pg',
    async () => {
      t = await createTestDatabase('idempotency');
      return new PgDatabase({ url: t.url, poolSize: 12, log });
    },
    async () => t?.drop(),
  );
});
