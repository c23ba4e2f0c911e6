import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { PGlite, types } from '@electric-sql/pglite';
import { allInOrder, type Database, type QueryResult, type Transaction } from './port.js';

/** A dump of a freshly initialised cluster (no tables yet), taken once per process. */
let pristineCluster: Promise<File | Blob | undefined> = Promise.resolve(undefined);

const parsers = { [types.INT8]: (v: string) => Number(v), [types.NUMERIC]: (v: string) => Number(v) };

export interface PgliteOptions {
  /**
   * How often VACUUM (ANALYZE) runs (default 10 min; 0 = never). PGlite is PostgreSQL in single-user mode: no
   * autovacuum, so without it every updated or deleted row (outbox marks, read model, deadlines) stays as a dead
   * tuple for ever, the files only grow, and the planner never gets statistics.
   */
  maintenanceMs?: number;
}

/**
 * pg's rowCount: the rows a SELECT returned, or the rows a statement changed. PGlite's affectedRows is 0 for a
 * SELECT, which would read "no row" where pg reads one.
 */
function rowCountOf(res: { affectedRows?: number; rows: unknown[] }): number {
  return res.affectedRows || res.rows.length;
}

/**
 * The embedded default: PostgreSQL compiled to WebAssembly, file-backed under DATA_DIR.
 * PGlite has one connection, so transactions are serialized by PGlite itself; that is
 * the same isolation the pg adapter gives, only with no concurrency.
 */
export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private maintenanceRun: Promise<void> | undefined;

  private constructor(readonly db: PGlite) {}

  /** dataDir undefined ⇒ in memory (tests of the embedded mechanisms). */
  static async open(dataDir?: string, options: PgliteOptions = {}): Promise<PgliteDatabase> {
    const maintenanceMs = options.maintenanceMs ?? 600_000;
    if (!Number.isInteger(maintenanceMs) || maintenanceMs < 0)
      throw new TypeError(`PgliteDatabase: maintenanceMs must be a non-negative integer, got ${maintenanceMs}`);
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
    const database = new PgliteDatabase(db);
    if (maintenanceMs > 0) {
      database.maintenanceTimer = setInterval(() => void database.maintain().catch(() => {}), maintenanceMs);
      database.maintenanceTimer.unref();
    }
    return database;
  }

  /**
   * VACUUM (ANALYZE) of every table: dead tuples become free space again and the planner gets statistics. It waits
   * its turn on PGlite's one connection like any statement; runs never overlap.
   */
  maintain(): Promise<void> {
    this.maintenanceRun ??= this.db
      .exec('VACUUM (ANALYZE)')
      .then(() => undefined)
      .finally(() => {
        this.maintenanceRun = undefined;
      });
    return this.maintenanceRun;
  }

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    const res = await this.db.query<R>(sql, params as unknown[] | undefined);
    return { rows: res.rows, rowCount: rowCountOf(res) };
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R>(sql: string, params?: readonly unknown[]) => {
          const res = await t.query<R>(sql, params as unknown[] | undefined);
          return { rows: res.rows, rowCount: rowCountOf(res) };
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
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
    this.maintenanceTimer = undefined;
    await this.maintenanceRun?.catch(() => {});
    if (!this.db.closed) await this.db.close();
  }
}
