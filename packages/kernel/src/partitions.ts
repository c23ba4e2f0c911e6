/**
 * Partition ownership: which of the order partitions this worker consumes (docs/messaging.md).
 *
 * - StaticOwnership: every partition, always (the embedded default: one process does everything).
 * - PgLeaseOwnership: leases in the order service's own PostgreSQL, spread over the live workers by
 *   rendezvous hashing; a dead worker's leases expire and move to the others.
 */
import { createHash } from 'node:crypto';
import type { PartitionOwnership } from './bus/port.js';
import { migrate } from './db/migrate.js';
import type { Database, Queryable } from './db/port.js';
import type { Logger } from './log.js';

type Listener = (owned: ReadonlySet<number>) => void;

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > 1024)
    throw new Error(`partition count must be an integer in 1..1024, got ${count}`);
}

/** 64-bit hash of a key (first 8 bytes of SHA-1) as a BigInt. */
function hash64(key: string): bigint {
  return createHash('sha1').update(key).digest().readBigUInt64BE(0);
}

const MASK64 = (1n << 64n) - 1n;

/**
 * The partition of an order: jump consistent hashing (Lamping & Veach) of the orderId, so that
 * growing the count from n to n+1 moves only 1/(n+1) of the orders. Used by the in-process bus and
 * by tooling; RabbitMQ's consistent-hash exchange keeps its own ring.
 */
export function partitionOf(orderId: string, count: number): number {
  checkCount(count);
  let key = hash64(orderId);
  let b = -1;
  let j = 0;
  while (j < count) {
    b = j;
    key = (key * 2862933555777941757n + 1n) & MASK64;
    j = Math.floor(((b + 1) * 2 ** 31) / (Number(key >> 33n) + 1));
  }
  return b;
}

/** Rendezvous (highest random weight) choice of the member that should own `partition`. */
export function rendezvousOwner(partition: number, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const m of members) {
    const score = hash64(`${m}/${partition}`);
    if (score > bestScore || (score === bestScore && best !== undefined && m < best)) {
      best = m;
      bestScore = score;
    }
  }
  return best;
}

/** All partitions, all the time: one process (the embedded default, tests). */
export class StaticOwnership implements PartitionOwnership {
  private readonly all: ReadonlySet<number>;
  constructor(readonly count: number) {
    checkCount(count);
    this.all = new Set(Array.from({ length: count }, (_, i) => i));
  }
  onChange(cb: Listener): void {
    cb(this.all);
  }
  current(): ReadonlySet<number> {
    return this.all;
  }
  released(): void {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

export const PARTITION_MIGRATIONS = [
  {
    version: 1,
    name: 'partition members and leases',
    sql: `
CREATE TABLE IF NOT EXISTS partition_members (
  instance_id text PRIMARY KEY,
  heartbeat_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS partition_leases (
  partition integer PRIMARY KEY,
  owner text,
  expires_at timestamptz NOT NULL
);
`,
  },
];

export interface PgLeaseOwnershipOptions {
  db: Database;
  instanceId: string;
  count: number;
  /** A lease not renewed for this long is free for others (default 10 s). */
  leaseMs?: number;
  /** How often leases are renewed and membership is re-read (default 2 s). */
  heartbeatMs?: number;
  log?: Logger;
}

/**
 * Leases in PostgreSQL. Every heartbeat: record this member as alive, compute the target share by
 * rendezvous hashing over the live members, renew the leases held, take free or expired leases of
 * the target share, and hand over partitions outside it (only after the bus reported `released`).
 * All writes are conditional (`WHERE owner = $me OR expires_at < now()`), so two workers racing on
 * one partition cannot both win.
 */
export class PgLeaseOwnership implements PartitionOwnership {
  private readonly db: Database;
  private readonly me: string;
  private readonly count: number;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly log: Logger | undefined;
  /** Leases this worker holds in the table (including ones being handed over). */
  private readonly held = new Set<number>();
  /** Partitions the bus should consume now. */
  private owned = new Set<number>();
  /** Held partitions the bus was asked to give up and has not released yet. */
  private readonly handingOver = new Set<number>();
  private readonly listeners: Listener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  /** Local time of the last successful renewal: past the lease, we must stop consuming. */
  private lastRenewedAt = 0;

  constructor(o: PgLeaseOwnershipOptions) {
    checkCount(o.count);
    if (!o.instanceId) throw new Error('PgLeaseOwnership: instanceId is required');
    this.db = o.db;
    this.me = o.instanceId;
    this.count = o.count;
    this.leaseMs = o.leaseMs ?? 10_000;
    this.heartbeatMs = o.heartbeatMs ?? 2_000;
    if (this.heartbeatMs * 2 > this.leaseMs)
      throw new Error(`PgLeaseOwnership: heartbeatMs (${this.heartbeatMs}) must be at most half of leaseMs`);
    this.log = o.log;
  }

  onChange(cb: Listener): void {
    this.listeners.push(cb);
  }

  current(): ReadonlySet<number> {
    return this.owned;
  }

  released(partition: number): void {
    if (!this.handingOver.has(partition)) return;
    this.handingOver.delete(partition);
    this.held.delete(partition);
    this.db
      .query(`UPDATE partition_leases SET owner = NULL, expires_at = now() WHERE partition = $1 AND owner = $2`, [
        partition,
        this.me,
      ])
      .catch((err) =>
        // The lease then simply expires; the other worker waits a little longer.
        this.log?.warn({ err: (err as Error).message, partition }, 'could not free partition lease'),
      );
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await migrate(this.db, 'partitions', PARTITION_MIGRATIONS);
    await this.db.query(
      `INSERT INTO partition_leases (partition, owner, expires_at)
       SELECT g, NULL, now() FROM generate_series(0, $1::int - 1) AS g
       ON CONFLICT (partition) DO NOTHING`,
      [this.count],
    );
    await this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.heartbeatMs);
  }

  private setOwned(next: Set<number>): void {
    const same = next.size === this.owned.size && [...next].every((p) => this.owned.has(p));
    if (same) return;
    this.owned = next;
    for (const cb of this.listeners) {
      try {
        cb(this.owned);
      } catch (err) {
        this.log?.error({ err: (err as Error).message }, 'partition ownership listener failed');
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.db.query(
        `INSERT INTO partition_members (instance_id, heartbeat_at) VALUES ($1, now())
         ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = now()`,
        [this.me],
      );
      const live = await this.db.query<{ instance_id: string }>(
        `SELECT instance_id FROM partition_members WHERE heartbeat_at > now() - make_interval(secs => $1::float8 / 1000)`,
        [this.leaseMs],
      );
      const members = live.rows.map((r) => r.instance_id);
      if (!members.includes(this.me)) members.push(this.me);
      const target = new Set<number>();
      for (let p = 0; p < this.count; p++) if (rendezvousOwner(p, members) === this.me) target.add(p);

      // Renew what we hold; a lease someone else took (we were paused past expiry) is lost at once.
      if (this.held.size > 0) {
        const renewed = await this.db.query<{ partition: number }>(
          `UPDATE partition_leases SET expires_at = now() + make_interval(secs => $3::float8 / 1000)
           WHERE partition = ANY($1::int[]) AND owner = $2 RETURNING partition`,
          [[...this.held], this.me, this.leaseMs],
        );
        const still = new Set(renewed.rows.map((r) => Number(r.partition)));
        for (const p of [...this.held]) {
          if (!still.has(p)) {
            this.held.delete(p);
            this.handingOver.delete(p);
            this.log?.warn({ partition: p }, 'partition lease lost to another worker');
          }
        }
      }
      this.lastRenewedAt = Date.now();

      const wanted = [...target].filter((p) => !this.held.has(p));
      if (wanted.length > 0) {
        const got = await this.db.query<{ partition: number }>(
          `UPDATE partition_leases SET owner = $2, expires_at = now() + make_interval(secs => $3::float8 / 1000)
           WHERE partition = ANY($1::int[]) AND (owner IS NULL OR owner = $2 OR expires_at < now())
           RETURNING partition`,
          [wanted, this.me, this.leaseMs],
        );
        for (const r of got.rows) this.held.add(Number(r.partition));
      }
      // Partitions outside the target share are handed over once the bus has drained them.
      for (const p of this.held) if (!target.has(p)) this.handingOver.add(p);
      for (const p of [...this.handingOver]) if (target.has(p)) this.handingOver.delete(p);

      this.setOwned(new Set([...this.held].filter((p) => !this.handingOver.has(p))));
      await this.db.query(
        `DELETE FROM partition_members WHERE heartbeat_at < now() - make_interval(secs => $1::float8 / 1000)`,
        [this.leaseMs * 6],
      );
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'partition lease heartbeat failed');
      // Without renewals our leases run out; stop consuming before anyone else may take them.
      if (Date.now() - this.lastRenewedAt > this.leaseMs - this.heartbeatMs) {
        this.held.clear();
        this.handingOver.clear();
        this.setOwned(new Set());
      }
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    this.setOwned(new Set());
    try {
      await this.db.query(
        `UPDATE partition_leases SET owner = NULL, expires_at = now() WHERE owner = $1 AND partition = ANY($2::int[])`,
        [this.me, [...this.held]],
      );
      await this.db.query('DELETE FROM partition_members WHERE instance_id = $1', [this.me]);
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'could not free partition leases at stop (they will expire)');
    }
    this.held.clear();
  }
}

/** The partition leases and the live members as they stand in a database (the operations console). */
export interface PartitionLeases {
  leases: { partition: number; owner: string | null; expiresAt: string; live: boolean }[];
  members: { instanceId: string; heartbeatAt: string; ageMs: number }[];
}

/** Undefined where no worker ever took a lease there (static ownership: the embedded default). */
export async function readPartitionLeases(db: Queryable): Promise<PartitionLeases | undefined> {
  const table = await db.query<{ t: string | null }>("SELECT to_regclass('partition_leases')::text AS t");
  if (!table.rows[0]?.t) return undefined;
  const leases = await db.query<{ partition: number; owner: string | null; expires_at: Date | string; live: boolean }>(
    'SELECT partition, owner, expires_at, expires_at > now() AS live FROM partition_leases ORDER BY partition',
  );
  const members = await db.query<{ instance_id: string; heartbeat_at: Date | string; age_ms: string | number }>(
    `SELECT instance_id, heartbeat_at, floor(extract(epoch FROM now() - heartbeat_at) * 1000) AS age_ms
       FROM partition_members ORDER BY instance_id`,
  );
  return {
    leases: leases.rows.map((l) => ({
      partition: Number(l.partition),
      owner: l.owner,
      expiresAt: new Date(l.expires_at).toISOString(),
      live: l.live,
    })),
    members: members.rows.map((m) => ({
      instanceId: m.instance_id,
      heartbeatAt: new Date(m.heartbeat_at).toISOString(),
      ageMs: Number(m.age_ms),
    })),
  };
}

/**
 * The partition ownership for a database: on PGlite the partitions belong to its one process (one connection, one
 * worker); on PostgreSQL workers share them through leases in the service's database. Composition roots (and the
 * test harnesses that stand in for one) hand this to a service; no service chooses itself.
 */
export function partitionOwnershipFor(
  db: Database,
  o: { instanceId: string; count: number; log?: Logger },
): PartitionOwnership {
  return db.kind === 'pglite' ? new StaticOwnership(o.count) : new PgLeaseOwnership({ db, ...o });
}
