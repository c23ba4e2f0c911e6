import type { Database } from './port.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * Applies the migrations not applied yet, in version order. Safe to run twice and from two
 * processes at once: the whole run holds a transaction-scoped advisory lock, and each version
 * is recorded in the same transaction as its SQL.
 */
export async function migrate(db: Database, component: string, migrations: readonly Migration[]): Promise<number[]> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]?.version === sorted[i - 1]?.version)
      throw new Error(`${component}: duplicate migration version ${sorted[i]?.version}`);
  }
  await db
    .exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    component text NOT NULL,
    version integer NOT NULL,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (component, version)
  )`)
    .catch(async (err) => {
      // Two processes creating the table at once: one loses with a unique violation on the catalog.
      await db.query('SELECT 1 FROM schema_migrations LIMIT 1').catch(() => {
        throw err;
      });
    });
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`migrate:${component}`]);
    const done = await tx.query<{ version: number }>('SELECT version FROM schema_migrations WHERE component = $1', [
      component,
    ]);
    const applied = new Set(done.rows.map((r) => Number(r.version)));
    const ran: number[] = [];
    for (const m of sorted) {
      if (applied.has(m.version)) continue;
      for (const statement of splitStatements(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)', [
        component,
        m.version,
        m.name,
      ]);
      ran.push(m.version);
    }
    return ran;
  });
}

/** Splits migration SQL on semicolons at line ends (migrations keep one statement per `;\n`, no $$ bodies with `;\n`). */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && !/^(--[^\n]*\n?)+$/.test(s));
}
