import { join } from 'node:path';
import type { Logger } from '../log.js';
import { KERNEL_MIGRATIONS } from '../schema.js';
import { type Migration, migrate } from './migrate.js';
import { ensureDatabase, PgDatabase } from './pg.js';
import { PgliteDatabase } from './pglite.js';
import type { Database } from './port.js';

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; unset ⇒ PGlite under dataDir/<name>. */
  url?: string;
  dataDir?: string;
  name: string;
  migrations: readonly Migration[];
  poolSize?: number;
  statementTimeoutMs?: number;
  log?: Logger;
}

/** Opens (creating if missing) and migrates a service's own database: kernel tables, then the service's. */
export async function openDatabase(o: OpenDatabaseOptions): Promise<Database> {
  let db: Database;
  if (o.url) {
    await ensureDatabase(o.url);
    db = new PgDatabase({
      url: o.url,
      poolSize: o.poolSize,
      statementTimeoutMs: o.statementTimeoutMs,
      log: o.log,
      applicationName: `commerce-${o.name}`,
    });
  } else {
    db = await PgliteDatabase.open(o.dataDir ? join(o.dataDir, o.name) : undefined);
  }
  try {
    // The kernel's tables (event store, outbox, inbox) first: service migrations may refer to them.
    await migrate(db, 'kernel', KERNEL_MIGRATIONS);
    await migrate(db, o.name, o.migrations);
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  return db;
}
