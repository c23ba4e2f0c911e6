import { afterAll, describe, expect, it } from 'vitest';
import { describeWith, freshDatabaseUrl, waitFor } from '../../../../test/support/services.js';
import { type Migration, migrate } from './migrate.js';
import { openDatabase } from './open.js';
import { ensureDatabase, PgDatabase } from './pg.js';
import { PgliteDatabase } from './pglite.js';
import type { Database } from './port.js';

const migrations: Migration[] = [
  {
    version: 1,
    name: 'things',
    sql: 'CREATE TABLE things (id bigserial PRIMARY KEY, n bigint NOT NULL);\nCREATE INDEX things_n ON things (n);',
  },
  { version: 2, name: 'more', sql: 'ALTER TABLE things ADD COLUMN label text' },
];

function contract(name: string, open: () => Promise<Database>) {
  describe(`database port on ${name}`, () => {
    let db: Database;
    afterAll(async () => db?.close());

    it('migrates once, even when asked twice at the same time', async () => {
      db = await open();
      const [a, b] = await Promise.all([migrate(db, 'demo', migrations), migrate(db, 'demo', migrations)]);
      expect([...a, ...b].sort()).toEqual([1, 2]);
      expect(await migrate(db, 'demo', migrations)).toEqual([]);
    });

    it('commits or rolls back a transaction as a whole, and returns int8 as numbers', async () => {
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO things (n, label) VALUES ($1, $2)', [9007199254740991, 'max']);
      });
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO things (n) VALUES ($1)', [1]);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const rows = await db.query<{ n: number; label: string }>('SELECT n, label FROM things');
      expect(rows.rows).toEqual([{ n: 9007199254740991, label: 'max' }]);
    });

    it('final(): commits the last statements with the transaction, or nothing when one of them fails', async () => {
      await db.query('DELETE FROM things');
      const results = await db.transaction(async (tx) => {
        const first = tx.query('INSERT INTO things (n, label) VALUES ($1, $2)', [1, 'kept']);
        return tx.final([first, tx.query<{ n: number }>('SELECT count(*) AS n FROM things')] as const);
      });
      expect(results[1].rows).toEqual([{ n: 1 }]);
      // The second statement fails (NOT NULL) after the first succeeded; on pg the COMMIT is already sent behind
      // them: the first failure in issue order is reported and the first insert is not committed.
      await expect(
        db.transaction(async (tx) =>
          tx.final([
            tx.query('INSERT INTO things (n, label) VALUES ($1, $2)', [2, 'lost']),
            tx.query('INSERT INTO things (n) VALUES ($1)', [null]),
            tx.query('INSERT INTO things (n, label) VALUES ($1, $2)', [3, 'lost too']),
          ]),
        ),
      ).rejects.toThrow(/null value in column "n"/);
      // A statement that failed earlier, outside final()'s list, also keeps the transaction from committing.
      await expect(
        db.transaction(async (tx) => {
          tx.query('INSERT INTO things (n) VALUES ($1)', [null]).catch(() => {});
          await tx.final([tx.query('INSERT INTO things (n, label) VALUES ($1, $2)', [4, 'lost'])]);
        }),
      ).rejects.toThrow();
      const rows = await db.query<{ n: number; label: string }>('SELECT n, label FROM things ORDER BY n');
      expect(rows.rows).toEqual([{ n: 1, label: 'kept' }]);
    });

    it('delivers NOTIFY to a listener', async () => {
      const got: string[] = [];
      const stop = await db.listen('things_changed', (p) => p && got.push(p));
      await db.query("SELECT pg_notify('things_changed', $1)", ['hello']);
      const deadline = Date.now() + 5000;
      while (!got.includes('hello') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(got).toContain('hello');
      await stop();
    });
  });
}

contract('PGlite', () => PgliteDatabase.open());

describe('PGlite maintenance (no autovacuum in single-user mode)', () => {
  const vacuumed = async (db: PgliteDatabase) =>
    (
      await db.query<{ vacuumed: boolean; analyzed: boolean; dead: number }>(
        `SELECT last_vacuum IS NOT NULL AS vacuumed, last_analyze IS NOT NULL AS analyzed, n_dead_tup AS dead
           FROM pg_stat_user_tables WHERE relname = 'churn'`,
      )
    ).rows[0];
  async function churn(db: PgliteDatabase): Promise<void> {
    await db.exec('CREATE TABLE churn (id int PRIMARY KEY, v int)');
    for (let i = 0; i < 50; i++) await db.query('INSERT INTO churn (id, v) VALUES ($1, 0)', [i]);
    await db.query('UPDATE churn SET v = v + 1');
    await db.query('DELETE FROM churn WHERE id < 25');
  }

  it('runs VACUUM (ANALYZE) on its own: dead tuples reclaimed, statistics gathered', async () => {
    const db = await PgliteDatabase.open(undefined, { maintenanceMs: 50 });
    try {
      await churn(db);
      const after = await waitFor(async () => {
        const v = await vacuumed(db);
        return v?.vacuumed && v.analyzed ? v : undefined;
      });
      expect(Number(after.dead)).toBe(0);
      const stats = await db.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stats WHERE tablename = 'churn' AND attname = 'v'",
      );
      expect(Number(stats.rows[0]?.n)).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('runs it when asked (maintain), and refuses a negative interval', async () => {
    const db = await PgliteDatabase.open(undefined, { maintenanceMs: 0 });
    try {
      await churn(db);
      expect(await vacuumed(db)).toMatchObject({ vacuumed: false, analyzed: false });
      await Promise.all([db.maintain(), db.maintain()]);
      expect(await vacuumed(db)).toMatchObject({ vacuumed: true, analyzed: true });
    } finally {
      await db.close();
    }
    await expect(PgliteDatabase.open(undefined, { maintenanceMs: -1 })).rejects.toThrow(/maintenanceMs/);
  });
});

describeWith(['postgres'], 'PostgreSQL', () => {
  const fresh = freshDatabaseUrl('db');
  afterAll(() => fresh.drop());
  contract('pg', async () => {
    // The database does not exist yet: two creators race, both succeed.
    await Promise.all([ensureDatabase(fresh.url), ensureDatabase(fresh.url)]);
    return new PgDatabase({ url: fresh.url });
  });

  it('openDatabase creates and migrates a missing database, twice at once', async () => {
    const other = freshDatabaseUrl('db');
    const [a, b] = await Promise.all([
      openDatabase({ url: other.url, name: 'demo', migrations }),
      openDatabase({ url: other.url, name: 'demo', migrations }),
    ]);
    const applied = await a.query<{ version: number }>(
      'SELECT version FROM schema_migrations WHERE component = $1 ORDER BY version',
      ['demo'],
    );
    expect(applied.rows.map((r) => r.version)).toEqual([1, 2]);
    await Promise.all([a.close(), b.close()]);
    await other.drop();
  });

  it('ensureDatabase survives the server ending its session between two queries, and names the reason', async () => {
    // idle_session_timeout=1 ms ends the admin session whenever it waits between queries. node-postgres emits that
    // on the client as an 'error' event: without a listener the process dies of it (an unhandled error here).
    const other = freshDatabaseUrl('db');
    const url = new URL(other.url);
    url.searchParams.set('options', '-c idle_session_timeout=1');
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => ensureDatabase(url.toString())));
    const reasons = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as Error).message] : []));
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) expect(reason).toMatch(/idle-session timeout/);
    await other.drop();
  });

  it('hands a connection back clean when a transaction fails before its first statement', async () => {
    // One connection, so that what follows gets the same one. BEGIN waits for its batch's tick: the ROLLBACK of a
    // transaction that failed at once must come after it, not overtake it and leave the connection in a
    // transaction, where the next autocommit write would wait, uncommitted, for someone's COMMIT.
    const db = new PgDatabase({ url: fresh.url, poolSize: 1 });
    const other = new PgDatabase({ url: fresh.url, poolSize: 1 });
    try {
      await db.exec('CREATE TABLE IF NOT EXISTS early (n int)');
      await expect(
        db.transaction(() => {
          throw new Error('failed at once');
        }),
      ).rejects.toThrow('failed at once');
      await db.query('INSERT INTO early (n) VALUES ($1)', [1]);
      const seen = await other.query<{ n: number }>('SELECT count(*)::int AS n FROM early');
      expect(seen.rows).toEqual([{ n: 1 }]);
    } finally {
      await db.close();
      await other.close();
    }
  });
});
