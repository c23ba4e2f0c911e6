import type { MessageBus } from './bus/port.js';
import { allInOrder, type Database, type Queryable } from './db/port.js';
import type { Logger } from './log.js';
import {
  claimOutboxBatch,
  deletePublishedOutbox,
  markFailed,
  markPublished,
  OUTBOX_CHANNEL,
  type OutboxRow,
} from './outbox.js';
import { OutboxDispatcher } from './outboxDispatch.js';

/** Advisory lock (per database) that one relay holds while it claims, publishes and marks a batch. */
const RELAY_LOCK = 'commerce:outbox-relay';

export interface OutboxMetrics {
  /** After a batch was published and marked: how many, and each row's commit → publish lag. */
  published?(count: number, lagsMs: number[]): void;
  /** After a batch failed to publish. */
  failed?(count: number, error: unknown): void;
}

export interface OutboxRelayOptions {
  db: Database;
  /** Where rows go; if the bus announces its recovery (onAvailable), a relay backing off goes on at once. */
  bus: Pick<MessageBus, 'publish' | 'onAvailable'>;
  log: Logger;
  batchSize?: number;
  /** Fallback poll when no NOTIFY arrives (lost notifications, missed wake-ups). */
  pollIntervalMs?: number;
  /** Published rows are deleted after this long (default 24 h). */
  retentionMs?: number;
  /** How often the retention job runs (default 60 s). */
  retentionSweepMs?: number;
  /** Backoff after a failed publish: base × 2^(failures-1), capped, with jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  now?: () => Date;
  metrics?: OutboxMetrics;
  /** Metrics of the dispatcher (dispatch at commit); `metrics` when absent. */
  dispatchMetrics?: OutboxMetrics;
  /**
   * Dispatch at commit (outboxDispatch.ts): effects committed on `db` are published at once by this process, and
   * this relay is the safety net that claims only rows left unpublished for `graceMs`. Off: the relay publishes
   * every row, woken by the NOTIFY of each commit.
   */
  dispatchAtCommit?: boolean;
  /** With dispatchAtCommit: how long a row may stay unpublished before the relay takes it (default 2000 ms). */
  graceMs?: number;
}

type BatchOutcome =
  | { kind: 'done'; count: number }
  | { kind: 'busy' }
  | { kind: 'failed'; count: number; error: unknown };

/** Serializes relays that share one PGlite database inside this process (PGlite has no other process). */
const localRelayLocks = new WeakMap<Database, Promise<unknown>>();
function withLocalLock<T>(db: Database, fn: () => Promise<T>): Promise<T> {
  const prev = localRelayLocks.get(db) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  localRelayLocks.set(
    db,
    run.catch(() => {}),
  );
  return run;
}

/**
 * Publishes outbox rows through the bus: claim the oldest unpublished rows, publish them in one
 * bus.publish call (confirms pipelined by the adapter, order kept), mark them only after that
 * resolved. Crash between publish and mark ⇒ the batch is published again (at least once; the
 * consumers' inbox makes it exactly-once in effect).
 *
 * Mutual exclusion, so that two relays never publish a row twice nor reorder an order's messages:
 *  - pg: claim + publish + mark run in one transaction holding pg_try_advisory_xact_lock; a
 *    second relay finds the lock taken and retries after its poll interval. The lock dies with
 *    the transaction, so a relay that crashes or loses its connection frees it at once.
 *  - PGlite (one process, ONE connection): no transaction may stay open across bus.publish (the
 *    in-process bus runs handlers that need the same connection: deadlock); relays of one
 *    database are serialized by an in-process lock instead.
 */
export class OutboxRelay {
  private readonly db: Database;
  private readonly bus: Pick<MessageBus, 'publish' | 'onAvailable'>;
  private readonly log: Logger;
  readonly batchSize: number;
  private pollIntervalMs: number;
  private readonly retentionMs: number;
  private readonly retentionSweepMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly now: () => Date;
  private readonly metrics: OutboxMetrics | undefined;
  private readonly graceMs: number;
  /** Publishes at commit; undefined when the relay publishes everything. */
  readonly dispatcher: OutboxDispatcher | undefined;

  private running = false;
  private loop: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private offAvailable: (() => void) | undefined;
  private woken = false;
  private sleeper: { resolve: () => void; wakeable: boolean; timer: NodeJS.Timeout } | undefined;
  private lastSweep = 0;
  private consecutiveFailures = 0;
  private notifications = 0;

  constructor(o: OutboxRelayOptions) {
    this.db = o.db;
    this.bus = o.bus;
    this.log = o.log;
    this.batchSize = positive('batchSize', o.batchSize ?? 200);
    this.pollIntervalMs = positive('pollIntervalMs', o.pollIntervalMs ?? 1000);
    this.retentionMs = positive('retentionMs', o.retentionMs ?? 24 * 3600_000);
    this.retentionSweepMs = positive('retentionSweepMs', o.retentionSweepMs ?? 60_000);
    this.backoffBaseMs = positive('backoffBaseMs', o.backoffBaseMs ?? 200);
    this.backoffMaxMs = positive('backoffMaxMs', o.backoffMaxMs ?? 10_000);
    this.now = o.now ?? (() => new Date());
    this.metrics = o.metrics;
    this.graceMs = o.dispatchAtCommit ? positive('graceMs', o.graceMs ?? 2000) : 0;
    this.dispatcher = o.dispatchAtCommit
      ? new OutboxDispatcher({
          db: o.db,
          bus: o.bus,
          log: o.log,
          now: this.now,
          metrics: o.dispatchMetrics ?? o.metrics,
        })
      : undefined;
    // Stragglers become due graceMs after their commit: look often enough to take them within a fraction of it.
    if (this.dispatcher) this.pollIntervalMs = Math.min(this.pollIntervalMs, Math.max(50, this.graceMs / 4));
  }

  /** NOTIFYs received from enqueueOutbox (not counting the wake-up after a LISTEN reconnect). */
  get notificationsReceived(): number {
    return this.notifications;
  }

  /** Failures in a row of the current outage (0 when the last batch went through). */
  get failures(): number {
    return this.consecutiveFailures;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.dispatcher?.attach();
    this.dispatcher?.release();
    this.unlisten = await this.db.listen(OUTBOX_CHANNEL, (payload) => {
      if (payload) this.notifications++;
      this.wake();
    });
    // After an outage the backoff may have grown to backoffMaxMs: the bus's recovery ends it.
    this.offAvailable = this.bus.onAvailable?.(() => {
      if (this.consecutiveFailures > 0) this.wake(true);
    });
    this.loop = this.run();
  }

  /**
   * Before the process's consumers start: what they commit is held for this relay's dispatcher and sent, in commit
   * order, when start() runs (once every queue is subscribed). Without dispatch at commit, nothing to do.
   */
  prepare(): void {
    this.dispatcher?.attach({ hold: true });
  }

  /** Stops claiming; the batch in flight is published and marked (or marked failed) first. */
  async stop(): Promise<void> {
    // Messages being dispatched are confirmed and marked first; what fails stays for the next relay.
    await this.dispatcher?.stop();
    if (!this.running) return;
    this.running = false;
    this.offAvailable?.();
    this.offAvailable = undefined;
    this.wake(true);
    await this.loop;
    this.loop = undefined;
    await this.unlisten?.().catch(() => {});
  }

  /**
   * Publishes until nothing is left (or a batch fails), young rows included (an operator's or a test's "now");
   * returns how many rows it published.
   */
  async publishPending(): Promise<number> {
    let total = 0;
    for (;;) {
      const out = await this.publishBatch(0);
      if (out.kind === 'failed') throw out.error;
      if (out.kind === 'busy') return total;
      total += out.count;
      if (out.count < this.batchSize) return total;
    }
  }

  private wake(force = false): void {
    this.woken = true;
    const s = this.sleeper;
    if (s && (s.wakeable || force)) {
      clearTimeout(s.timer);
      this.sleeper = undefined;
      s.resolve();
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (!this.running || (wakeable && this.woken)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeper = undefined;
        resolve();
      }, ms);
      this.sleeper = { resolve, wakeable, timer };
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let out: BatchOutcome;
      try {
        out = await this.publishBatch();
      } catch (error) {
        out = { kind: 'failed', count: 0, error };
      }
      if (out.kind === 'failed') {
        this.consecutiveFailures++;
        const exp = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(20, this.consecutiveFailures - 1));
        const delay = Math.round(exp / 2 + Math.random() * (exp / 2));
        this.log.warn(
          { err: errorText(out.error), rows: out.count, failures: this.consecutiveFailures, retryInMs: delay },
          'outbox publish failed; backing off',
        );
        await this.sleep(delay, false);
        continue;
      }
      if (this.consecutiveFailures > 0)
        this.log.info({ failures: this.consecutiveFailures }, 'outbox publishing again');
      this.consecutiveFailures = 0;
      await this.sweepIfDue();
      // A full batch means more is probably waiting: go on at once, never sleep after it.
      if (out.kind === 'done' && out.count === this.batchSize) continue;
      // Another relay holds the lock: it publishes what a NOTIFY announces; retry after the poll interval.
      await this.sleep(this.pollIntervalMs, out.kind !== 'busy');
    }
  }

  private async sweepIfDue(): Promise<void> {
    const t = this.now().getTime();
    if (t - this.lastSweep < this.retentionSweepMs) return;
    this.lastSweep = t;
    try {
      const n = await deletePublishedOutbox(this.db, new Date(t - this.retentionMs));
      if (n > 0) this.log.debug({ deleted: n }, 'outbox retention');
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'outbox retention failed');
    }
  }

  /** One batch: claim, publish, mark. */
  private publishBatch(olderThanMs = this.graceMs): Promise<BatchOutcome> {
    if (this.db.kind === 'pg') {
      return this.db.transaction(async (tx) => {
        // Lock and claim travel together (with BEGIN: one round trip); the claim ran after the lock was taken, and
        // its rows are dropped unread when another relay holds the lock.
        const [lock, rows] = await allInOrder([
          tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok', [RELAY_LOCK]),
          claimOutboxBatch(tx, this.batchSize, olderThanMs),
        ] as const);
        if (!lock.rows[0]?.ok) return { kind: 'busy' } as const;
        // The mark (or the failure's record) goes out with the COMMIT: one round trip.
        return this.publishClaimed(tx, rows, (mark) => tx.final([mark]));
      });
    }
    return withLocalLock(this.db, async () =>
      this.publishClaimed(this.db, await claimOutboxBatch(this.db, this.batchSize, olderThanMs), (mark) => mark),
    );
  }

  private async publishClaimed(
    q: Queryable,
    claimed: OutboxRow[],
    settle: (mark: Promise<void>) => Promise<unknown>,
  ): Promise<BatchOutcome> {
    // Rows this process's dispatcher is still publishing or about to mark (a slow confirm or mark under load): not
    // sent again; should that publish fail, the rows are claimed on a later pass.
    const rows = this.dispatcher ? claimed.filter((r) => !this.dispatcher?.isUnsettled(r.envelope.eventId)) : claimed;
    if (rows.length === 0) return { kind: 'done', count: 0 };
    const ids = rows.map((r) => r.id);
    try {
      await this.bus.publish(
        rows.map((r) => ({
          exchange: r.exchange,
          routingKey: r.routing_key,
          envelope: r.envelope,
          ...(r.traceparent ? { traceparent: r.traceparent } : {}),
        })),
      );
    } catch (error) {
      await settle(markFailed(q, ids, errorText(error)));
      this.metrics?.failed?.(rows.length, error);
      return { kind: 'failed', count: rows.length, error };
    }
    const at = this.now();
    await settle(markPublished(q, ids, at));
    if (this.metrics?.published) {
      const lags = rows.map((r) => Math.max(0, at.getTime() - new Date(r.created_at).getTime()));
      this.metrics.published(rows.length, lags);
    }
    return { kind: 'done', count: rows.length };
  }
}

function positive(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new TypeError(`OutboxRelay: ${name} must be a positive number, got ${v}`);
  return v;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
