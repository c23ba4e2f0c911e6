/**
 * Projections: tables a checkpointed subscription keeps (subscription.ts), and their rebuild without downtime.
 *
 * A projection's handler writes its tables by their bare names; the live subscription's transactions resolve them in
 * the default schema (public). A rebuild creates the same tables in a schema of its own (`rebuild_<name>`, LIKE the
 * live ones), runs a second subscription (`<name>__rebuild`) from position 0 with that schema first on its
 * transactions' search_path, so the very same SQL fills the shadow tables while the live ones keep serving. Caught
 * up, it stops and swaps in one transaction: the live tables are dropped, the shadow ones moved into public, and the
 * live checkpoint takes the shadow's position; the live subscription notices its checkpoint moved, takes it up and
 * goes on from there. Killed midway, a rebuild leaves its schema and checkpoint behind and the next one resumes them.
 *
 * An inline projection (`inline: true`, the order service's `orders` read model) has no live subscription: the service
 * writes it in the transactions that append the events, so that reads follow writes. Its rebuild is the same, but the
 * swap first holds off those writers (a lock on the live tables: writers under way commit first, later ones wait and
 * then write into the swapped-in tables) and applies, in the swap's transaction, every committed event the shadow has
 * not seen yet, past the horizon too (readAll `pastHorizon`): nothing committed is left out, and a writer that comes
 * after the swap writes its own change into the new tables. The handler must be idempotent per event (an event the
 * writer already projected may be applied again): the orders handler folds whole streams and upserts by version.
 */
import type { Database, Queryable } from './db/port.js';
import { LOG_START, type LogPosition, positionOf, readAll } from './eventStore.js';
import type { Logger } from './log.js';
import { EventSubscription, eventsFor, type SubscriptionDefinition } from './subscription.js';
import { ensureCheckpoint, subscriptionStatus } from './subscriptionStore.js';

export interface Projection {
  /** Its subscription's name: [a-z][a-z0-9_]*. */
  name: string;
  /** The tables it owns, by bare name (created by the service's migrations in public). */
  tables: readonly string[];
  subscription: Omit<SubscriptionDefinition, 'name'>;
  /** Written by the service with its events, not by a live subscription; rebuilt the same way (see above). */
  inline?: boolean;
}

const IDENT = /^[a-z][a-z0-9_]{0,40}$/;

function checkProjection(p: Projection): void {
  if (!IDENT.test(p.name)) throw new TypeError(`projection name must match ${IDENT}, got ${JSON.stringify(p.name)}`);
  for (const t of p.tables)
    if (!IDENT.test(t)) throw new TypeError(`projection ${p.name}: table name must match ${IDENT}, got ${t}`);
}

export const rebuildSchemaOf = (p: Pick<Projection, 'name'>) => `rebuild_${p.name}`;
export const rebuildSubscriptionOf = (p: Pick<Projection, 'name'>) => `${p.name}__rebuild`;

/** The live subscription of a projection. */
export function projectionSubscription(
  p: Projection,
  o: ConstructorParameters<typeof EventSubscription>[1],
): EventSubscription {
  checkProjection(p);
  if (p.inline)
    throw new TypeError(`projection ${p.name} is written inline by its service: it has no live subscription`);
  return new EventSubscription({ ...p.subscription, name: p.name }, o);
}

export interface RebuildProgress {
  projection: string;
  phase: 'building' | 'swapped';
  /** The rebuild went on from an earlier, interrupted one. */
  resumed: boolean;
  handled: number;
  /** Events in the store now (handled + still to do). */
  total: number;
  eventsPerSecond: number;
  /** Seconds left at the current rate (null before a rate is known). */
  etaSeconds: number | null;
}

export interface RebuildOptions {
  /** The rebuild's name in its lease (default `rebuild`: a restarted rebuild takes its own lease back at once). */
  instanceId?: string;
  batchSize?: number;
  leaseMs?: number;
  /** How often progress is reported (default 500 ms). */
  progressIntervalMs?: number;
  onProgress?(p: RebuildProgress): void;
  log?: Logger;
}

/** Creates the shadow schema and tables unless a rebuild is under way; answers whether one was. */
async function prepareShadow(db: Database, p: Projection): Promise<boolean> {
  const schema = rebuildSchemaOf(p);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rebuild:${p.name}`]);
    const existing = await tx.query('SELECT 1 FROM subscription_checkpoints WHERE name = $1', [
      rebuildSubscriptionOf(p),
    ]);
    if (existing.rowCount > 0) return true;
    // sql-identifier-ok: schema and table names checked against IDENT (checkProjection), never values
    await tx.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await tx.query(`CREATE SCHEMA ${schema}`); // sql-identifier-ok: checked against IDENT
    // sql-identifier-ok: checked against IDENT; LIKE copies columns, defaults, constraints and indexes
    for (const t of p.tables) await tx.query(`CREATE TABLE ${schema}.${t} (LIKE public.${t} INCLUDING ALL)`);
    await ensureCheckpoint(tx, rebuildSubscriptionOf(p));
    return false;
  });
}

/** Moves the shadow tables in and the live checkpoint to the shadow's position, in one transaction. */
async function swap(db: Database, p: Projection): Promise<void> {
  const shadow = rebuildSubscriptionOf(p);
  await db.transaction(async (tx) => {
    if (p.inline) {
      await finishInline(tx, p);
      await moveShadowTables(tx, p);
      await tx.query('UPDATE subscription_parked SET subscription = $1 WHERE subscription = $2', [p.name, shadow]);
      await tx.query('DELETE FROM subscription_checkpoints WHERE name = $1', [shadow]);
      return;
    }
    await ensureCheckpoint(tx, p.name);
    // The live subscription moves its checkpoint first thing in its transactions: this waits for one under way and
    // holds the next until the swap committed (it then finds the checkpoint moved and takes it up again).
    await tx.query('SELECT name FROM subscription_checkpoints WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE', [
      [p.name, shadow],
    ]);
    await moveShadowTables(tx, p);
    await tx.query(
      `UPDATE subscription_checkpoints AS live
          SET tx_id = sh.tx_id, global_position = sh.global_position, events_handled = sh.events_handled,
              state = 'running', failing_event_id = NULL, failing_attempts = 0, last_error = NULL, updated_at = now()
         FROM subscription_checkpoints AS sh
        WHERE live.name = $1 AND sh.name = $2`,
      [p.name, shadow],
    );
    await tx.query('DELETE FROM subscription_parked WHERE subscription = $1', [p.name]);
    await tx.query('UPDATE subscription_parked SET subscription = $1 WHERE subscription = $2', [p.name, shadow]);
    await tx.query('DELETE FROM subscription_checkpoints WHERE name = $1', [shadow]);
  });
}

/**
 * Drops the live tables and moves the shadow ones into public, then drops the shadow schema. The shadow's indexes
 * (named by PostgreSQL when LIKE copied them) take the names the live ones had, so that later migrations find them.
 */
async function moveShadowTables(tx: Queryable, p: Projection): Promise<void> {
  const schema = rebuildSchemaOf(p);
  for (const t of p.tables) {
    const live = await indexesOf(tx, `public.${t}`);
    await tx.query(`DROP TABLE IF EXISTS public.${t}`); // sql-identifier-ok: checked against IDENT
    await tx.query(`ALTER TABLE ${schema}.${t} SET SCHEMA public`); // sql-identifier-ok: checked against IDENT
    for (const [shape, name] of await indexesOf(tx, `public.${t}`)) {
      const wanted = live.get(shape);
      // sql-identifier-ok: both names read from pg_class, quoted
      if (wanted && wanted !== name) await tx.query(`ALTER INDEX public.${quoted(name)} RENAME TO ${quoted(wanted)}`);
    }
  }
  await tx.query(`DROP SCHEMA ${schema} CASCADE`); // sql-identifier-ok: checked against IDENT
}

/** A table's indexes: their definition without name and table (what LIKE keeps) → their name. */
async function indexesOf(tx: Queryable, table: string): Promise<Map<string, string>> {
  const res = await tx.query<{ name: string; shape: string }>(
    `SELECT c.relname AS name,
            regexp_replace(pg_get_indexdef(i.indexrelid), '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+ ', 'CREATE \\1INDEX ON ') AS shape
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      WHERE i.indrelid = to_regclass($1) ORDER BY c.relname`,
    [table],
  );
  return new Map(res.rows.map((r) => [r.shape, r.name]));
}

/** A name read from the catalog, as a quoted SQL identifier. */
const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * An inline projection's last step, in the swap's transaction: holds off its writers, then applies to the shadow
 * tables every committed event past the shadow's checkpoint (see the header).
 */
async function finishInline(tx: Queryable, p: Projection): Promise<void> {
  const schema = rebuildSchemaOf(p);
  // SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE lock of every insert and update: waits for them, holds later.
  for (const t of p.tables) await tx.query(`LOCK TABLE public.${t} IN SHARE ROW EXCLUSIVE MODE`); // sql-identifier-ok: checked against IDENT
  const cp = await tx.query<{ tx_text: string; global_position: number | string }>(
    'SELECT tx_id::text AS tx_text, global_position FROM subscription_checkpoints WHERE name = $1',
    [rebuildSubscriptionOf(p)],
  );
  const row = cp.rows[0];
  let after: LogPosition = row ? { txId: row.tx_text, globalPosition: Number(row.global_position) } : LOG_START;
  await tx.query("SELECT set_config('search_path', $1, true)", [`${schema}, public`]);
  for (;;) {
    const events = await readAll(tx, after, 1000, { pastHorizon: true });
    if (events.length === 0) break;
    const given = eventsFor(p.subscription, events);
    if (given.length > 0) await p.subscription.handle(given, tx);
    after = positionOf(events[events.length - 1] as (typeof events)[number]);
  }
  await tx.query("SELECT set_config('search_path', 'public', true)");
}

/**
 * Rebuilds a projection from position 0 into shadow tables while the live one serves, then swaps atomically.
 * Resumes an interrupted rebuild. Resolves with the last progress once swapped.
 */
export async function rebuildProjection(db: Database, p: Projection, o: RebuildOptions = {}): Promise<RebuildProgress> {
  checkProjection(p);
  const resumed = await prepareShadow(db, p);
  const schema = rebuildSchemaOf(p);
  const name = rebuildSubscriptionOf(p);
  const handle = p.subscription.handle;
  const batchSize = o.batchSize ?? 1000;
  const sub = new EventSubscription(
    {
      ...p.subscription,
      name,
      async handle(events, tx: Queryable) {
        // The same SQL, resolved in the shadow schema first (for this transaction only).
        await tx.query("SELECT set_config('search_path', $1, true)", [`${schema}, public`]);
        await handle(events, tx);
      },
    },
    {
      db,
      instanceId: o.instanceId ?? 'rebuild',
      batchSize,
      leaseMs: o.leaseMs ?? 10_000,
      pollIntervalMs: 1000,
      log: o.log,
    },
  );
  const started = Date.now();
  let startHandled: number | undefined;
  let last: RebuildProgress | undefined;
  let target: number | undefined;
  const progress = async (): Promise<{ p: RebuildProgress; lag: number; stopped: string | null }> => {
    const s = (await subscriptionStatus(db)).find((x) => x.name === name);
    const handled = s?.handled ?? 0;
    startHandled ??= handled;
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? (handled - startHandled) / seconds : 0;
    const lag = s?.lagEvents ?? 0;
    last = {
      projection: p.name,
      phase: 'building',
      resumed,
      handled,
      total: handled + lag,
      eventsPerSecond: Math.round(rate),
      etaSeconds: rate > 0 ? Math.round(lag / rate) : null,
    };
    return { p: last, lag, stopped: s?.state === 'stopped' ? (s.lastError ?? 'stopped') : null };
  };
  await sub.start();
  try {
    for (;;) {
      const now = await progress();
      o.onProgress?.(now.p);
      if (now.stopped) throw new Error(`rebuild of ${p.name} stopped at a failing event: ${now.stopped}`);
      target ??= now.p.total;
      // Past the events there were at the start and within a batch of the head: the rest is the live subscription's
      // after the swap (writes never stop for a rebuild).
      if (now.p.handled >= target && now.lag < batchSize && sub.isLeader()) break;
      await new Promise((r) => setTimeout(r, o.progressIntervalMs ?? 500));
    }
  } finally {
    await sub.stop();
  }
  await swap(db, p);
  const done: RebuildProgress = { ...(last as RebuildProgress), phase: 'swapped', etaSeconds: 0 };
  o.onProgress?.(done);
  return done;
}
