import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../test/support/services.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { PgliteDatabase } from './db/pglite.js';
import type { Database } from './db/port.js';
import { MemoryDedupCache } from './dedup.js';
import { type Change, commitChange, dedupKey, type Write } from './effect.js';
import { InboxRetention } from './inbox.js';
import { createLogger } from './log.js';
import { KERNEL_MIGRATIONS } from './schema.js';
import type { DedupCache } from './service.js';

const log = createLogger({ level: 'silent' });
const noCache: DedupCache = { seen: async () => false, remember: async () => {} };

function inboxContract(name: string, open: () => Promise<Database>, cleanup: () => Promise<void>) {
  describe(`inbox on ${name}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await open();
      await migrate(db, 'kernel', KERNEL_MIGRATIONS);
      await db.exec('CREATE TABLE effects (message_id text NOT NULL)');
    });
    afterAll(async () => {
      await db?.close();
      await cleanup();
    });
    const effects = async (id: string) =>
      (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM effects WHERE message_id = $1', [id])).rows[0]?.n;
    /** A consumer's change for message `id`: insert one effect row (a store adapter's write). */
    const handle = (consumer: string, id: string, extra: Write[] = []): Change<undefined, string> => ({
      inbox: { consumer, messageId: id },
      load: async () => undefined,
      decide: () => ({
        result: `done ${id}`,
        effect: { writes: [{ sql: 'INSERT INTO effects (message_id) VALUES ($1)', params: [id] }, ...extra] },
      }),
    });

    it('applies an effect once; a redelivery (cache forgotten) is recognised by the inbox row', async () => {
      const id = randomUUID();
      expect(await commitChange(db, handle('c1', id), { dedup: noCache })).toEqual({
        kind: 'applied',
        result: `done ${id}`,
      });
      expect(await commitChange(db, handle('c1', id), { dedup: noCache })).toEqual({ kind: 'duplicate' });
      expect(await effects(id)).toBe(1);
      // Another consumer of the same message has its own record.
      expect((await commitChange(db, handle('c2', id))).kind).toBe('applied');
    });

    it('asks the cache only about a redelivery; a first delivery goes straight to the inbox row', async () => {
      const asked: string[] = [];
      const remembered: string[] = [];
      const cache: DedupCache = {
        seen: async (key) => {
          asked.push(key);
          return false;
        },
        remember: async (key) => {
          remembered.push(key);
        },
      };
      const first = randomUUID();
      const again = randomUUID();
      expect((await commitChange(db, handle('c1', first), { dedup: cache })).kind).toBe('applied');
      expect(asked).toEqual([]);
      expect((await commitChange(db, handle('c1', again), { dedup: cache, maybeHandled: true })).kind).toBe('applied');
      expect(asked).toEqual([dedupKey('c1', again)]);
      // Both are remembered once committed, so that a redelivery of either is skipped from then on.
      expect(remembered).toEqual([dedupKey('c1', first), dedupKey('c1', again)]);
    });

    it('reports a write that fails, and commits nothing', async () => {
      const id = randomUUID();
      const failing = handle('c1', id, [{ sql: 'INSERT INTO effects (message_id) VALUES ($1)', params: [null] }]);
      await expect(commitChange(db, failing, { dedup: noCache, maybeHandled: true })).rejects.toThrow(/null value/);
      expect(await effects(id)).toBe(0);
    });

    it('records nothing when the decision fails, so that a retry applies it', async () => {
      const id = randomUUID();
      await expect(
        commitChange(db, {
          inbox: { consumer: 'c1', messageId: id },
          load: async () => undefined,
          decide: () => {
            throw new Error('handler bug');
          },
        }),
      ).rejects.toThrow('handler bug');
      expect((await db.query('SELECT 1 FROM inbox WHERE message_id = $1', [id])).rowCount).toBe(0);
      expect((await commitChange(db, handle('c1', id))).kind).toBe('applied');
      expect(await effects(id)).toBe(1);
    });

    it('skips a duplicate the cache remembers (nothing commits), and remembers after commit', async () => {
      const cache = new MemoryDedupCache();
      const id = randomUUID();
      await commitChange(db, handle('c1', id), { dedup: cache });
      expect(await cache.seen(dedupKey('c1', id))).toBe(true);
      await db.query('DELETE FROM inbox WHERE message_id = $1', [id]);
      // A redelivery the cache alone recognises (the inbox row is gone, so only the cache could): nothing runs.
      expect(await commitChange(db, handle('c1', id), { dedup: cache, maybeHandled: true })).toEqual({
        kind: 'duplicate',
      });
      expect(await effects(id)).toBe(1);
      expect((await db.query('SELECT 1 FROM inbox WHERE message_id = $1', [id])).rowCount).toBe(0);
      await expect(commitChange(db, handle('', id))).rejects.toThrow(/consumer/);
    });

    it('retention deletes rows older than the retention period, batch by batch, and keeps the rest', async () => {
      const consumer = `retention-${randomUUID()}`;
      const rows = async (age: 'old' | 'recent') =>
        (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM inbox
              WHERE consumer = $1 AND (handled_at < now() - interval '1 day') = $2`,
            [consumer, age === 'old'],
          )
        ).rows[0]?.n;
      const addOld = async (n: number) => {
        for (let i = 0; i < n; i++)
          await db.query(
            `INSERT INTO inbox (consumer, message_id, handled_at) VALUES ($1, $2, now() - interval '10 days')`,
            [consumer, randomUUID()],
          );
      };
      await addOld(7);
      for (let i = 0; i < 3; i++) expect((await commitChange(db, handle(consumer, randomUUID()))).kind).toBe('applied');
      const retention = new InboxRetention({ db, log, retentionMs: 7 * 86_400_000, batchSize: 3 });
      // 7 old rows in batches of 3: 3 + 3 + 1.
      expect(await retention.sweep()).toBe(7);
      expect(await rows('old')).toBe(0);
      expect(await rows('recent')).toBe(3);
      // Started, it runs by itself.
      await addOld(2);
      const timed = new InboxRetention({ db, log, retentionMs: 7 * 86_400_000, sweepMs: 20 });
      timed.start();
      await waitFor(async () => (await rows('old')) === 0, { what: 'the timed sweep' });
      await timed.stop();
      expect(await rows('recent')).toBe(3);
      expect(() => new InboxRetention({ db, log, retentionMs: 0 })).toThrow(/retentionMs must be a positive integer/);
    });

    it('applies once when the same message is handled many times at once', async () => {
      const id = randomUUID();
      const results = await Promise.all(Array.from({ length: 10 }, () => commitChange(db, handle('race', id))));
      expect(results.filter((r) => r.kind === 'applied')).toHaveLength(1);
      expect(await effects(id)).toBe(1);
    });
  });
}

inboxContract(
  'PGlite',
  () => PgliteDatabase.open(),
  async () => {},
);

describeWith(['postgres'], 'inbox on PostgreSQL', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  inboxContract(
    'pg',
    async () => {
      t = await createTestDatabase('inbox');
      return new PgDatabase({ url: t.url, poolSize: 12, log });
    },
    async () => t?.drop(),
  );
});
