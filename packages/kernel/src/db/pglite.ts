import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { PGlite, types } from '@electric-sql/pglite';
import { allInOrder, type Database, type QueryResult, type Transaction } from './port.js';

/** A dump of a freshly initialised cluster (no tables yet), taken once per process. */
let pristineCluster: Promise<File | Blob | undefined> = Promise.resolve(undefined);

const parsers = { [types.INT8]: (v: string) => Number(v), [types.NUMERIC]: (v: string) => Number(v) };

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, file-backed under DATA_DIR.
 * PGlite has one connection, so transactions are serialized by PGlite itself; that is
 * the same isolation the pg adapter gives, only with no concurrency.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private constructor(readonly db: PGlite) {}

  /** dataDir undefined ⇒ in memory (tests of the embedded mechanisms). */
  static async open(dataDir?: string): Promise<PgliteDatabase> {
    const fresh = !dataDir || !existsSync(dataDir) || readdirSync(dataDir).length === 0;
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    // initdb in WASM takes ~5 s; a new database cloned from a pristine dump of the first one takes ~1 s.
    // The embedded default creates three at first start, so the clone saves most of the wait.
    const template = fresh ? await pristineCluster : undefined;
    const db = await PGlite.create({
      ...(dataDir ? { dataDir } : {}),
      parsers,
      ...(template ? { loadDataDir: template } : {}),
    });
    if (fresh && !template) pristineCluster = db.dumpDataDir('none').catch(() => undefined);
    return new PgliteDatabase(db);
  }

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const res = await this.db.query<R>(sql, params as unknown[] | undefined);
    return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R>(sql: string, params?: readonly unknown[]) => {
          const res = await t.query<R>(sql, params as unknown[] | undefined);
          return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length };
        },
        // One connection, no round trips to save: the commit follows when fn returns.
        final: (statements) => allInOrder(statements),
      }),
    );
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    return this.db.listen(channel, onNotify);
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
