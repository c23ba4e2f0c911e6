/**
 * Checkpointed subscriptions to the event store (docs/architecture.md "Subscriptions").
 *
 * A named subscription reads the whole log with readAll (commit-order safe: nothing skipped under concurrent
 * writers), hands each batch to its handler inside one transaction, and moves its checkpoint in that same
 * transaction: each event is applied exactly once, whatever dies when. It catches up over history, then follows new
 * events, woken by the NOTIFY of the events table's trigger (kernel migration 8), with a slow poll as fallback.
 *
 * One instance runs a subscription at a time: the checkpoint row carries a lease; the others try to take it at each
 * heartbeat and one does within the lease time after the leader died. The checkpoint update is guarded by the owner
 * and the position, so an instance that lost its lease while paused commits nothing.
 *
 * A handler that throws is retried with backoff; a failing batch is retried one event at a time to find the event;
 * after `maxAttempts` failures of one event the subscription parks it (subscription_parked, with the reason) and goes
 * on, or stops there, as its definition says. Attempts are stored, so a restart goes on counting.
 */
import type { Database, Queryable } from './db/port.js';
import { isDatabaseUnavailable } from './db/port.js';
import { type LogPosition, positionOf, readAll, type StoredEvent } from './eventStore.js';
import type { Logger } from './log.js';
import {
  acquireLease,
  advanceCheckpoint,
  CheckpointMoved,
  ensureCheckpoint,
  eventsHeldBack,
  parkEvent,
  recordFailure,
  releaseLease,
  renewLease,
  stopAtFailure,
} from './subscriptionStore.js';

/** The channel the events table's trigger notifies at each commit that appended events. */
export const EVENTS_CHANNEL = 'commerce_events';

export interface SubscriptionDefinition {
  /** Unique per database; names the checkpoint row. */
  name: string;
  /** Applies events (in readAll order) with the transaction's statements; the checkpoint commits with them. */
  handle(events: readonly StoredEvent[], tx: Queryable): Promise<void>;
  /** Only these event types reach the handler; the checkpoint passes over the others. Default: every event. */
  eventTypes?: readonly string[];
  /** After maxAttempts failures of one event: park it and go on, or stop the subscription there. */
  onFailure: 'park' | 'stop';
  /** Default 5. */
  maxAttempts?: number;
  /** Turns a stored event into the shape the handler knows (the upcasters); a throw fails the event like the handler. */
  upcast?(event: StoredEvent): StoredEvent;
}

/** The events of `batch` a subscription's handler is given: its event types only, upcast. */
export function eventsFor(def: Omit<SubscriptionDefinition, 'name'>, batch: readonly StoredEvent[]): StoredEvent[] {
  const types = def.eventTypes ? new Set(def.eventTypes) : undefined;
  const events = types ? batch.filter((e) => types.has(e.eventType)) : [...batch];
  const upcast = def.upcast;
  return upcast ? events.map((e) => upcast(e)) : events;
}

export interface SubscriptionOptions {
  db: Database;
  /** This process's name in the lease. */
  instanceId: string;
  /** A lease not renewed for this long may be taken by another instance (default 10 s). */
  leaseMs?: number;
  /** Events per transaction (default 500). */
  batchSize?: number;
  /** Fallback poll when no NOTIFY arrives (default 5 s). */
  pollIntervalMs?: number;
  /**
   * After it found nothing to read, how long it gathers before reading again once woken (default 0: at once). A
   * projection that may lag a little sets it: under load each wake-up then reads the events of many commits in one
   * batch, one transaction, instead of one or two commits per transaction.
   */
  gatherMs?: number;
  /** First retry delay after a failure, doubled per attempt up to retryMaxMs (defaults 100 ms, 10 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Attempts at one event when the definition does not say (default 5). */
  maxAttempts?: number;
  log?: Logger;
  /** Told when this instance becomes, or stops being, the one that runs the subscription. */
  onLeadership?(leader: boolean): void;
  /** Told after each committed batch. */
  onBatch?(b: { events: number; position: LogPosition; handled: number }): void;
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class EventSubscription {
  private readonly db: Database;
  private readonly def: SubscriptionDefinition;
  private readonly me: string;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly batchSize: number;
  private readonly gatherMs: number;
  private readonly pollIntervalMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly maxAttempts: number;
  private readonly o: SubscriptionOptions;

  private leader = false;
  private state: 'running' | 'stopped' = 'running';
  private position: LogPosition = { txId: '0', globalPosition: 0 };
  private handled = 0;
  private failing: { eventId: string; attempts: number } | undefined;
  /** After a failing batch: one event at a time up to here, to find the failing event. */
  private isolateUntil: LogPosition | undefined;
  private lastRenewedAt = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private tickRunning: Promise<void> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private woken = false;
  private sleeper: { done: () => void; wakeable: boolean } | undefined;

  constructor(def: SubscriptionDefinition, o: SubscriptionOptions) {
    if (!/^[a-z][a-z0-9_.-]{0,62}$/.test(def.name))
      throw new TypeError(`subscription name must match [a-z][a-z0-9_.-]{0,62}, got ${JSON.stringify(def.name)}`);
    if (!o.instanceId) throw new TypeError('Subscription: instanceId is required');
    this.db = o.db;
    this.def = def;
    this.me = o.instanceId;
    this.o = o;
    this.leaseMs = o.leaseMs ?? 10_000;
    this.heartbeatMs = Math.max(50, Math.floor(this.leaseMs / 3));
    this.batchSize = o.batchSize ?? 500;
    this.gatherMs = o.gatherMs ?? 0;
    if (!(this.gatherMs >= 0)) throw new TypeError(`EventSubscription: gatherMs must be >= 0, got ${o.gatherMs}`);
    this.pollIntervalMs = o.pollIntervalMs ?? 5_000;
    this.retryBaseMs = o.retryBaseMs ?? 100;
    this.retryMaxMs = o.retryMaxMs ?? 10_000;
    this.maxAttempts = def.maxAttempts ?? o.maxAttempts ?? 5;
    for (const [k, v] of Object.entries({
      leaseMs: this.leaseMs,
      batchSize: this.batchSize,
      maxAttempts: this.maxAttempts,
    }))
      if (!Number.isInteger(v) || v < 1)
        throw new TypeError(`Subscription ${def.name}: ${k} must be a positive integer, got ${v}`);
  }

  get name(): string {
    return this.def.name;
  }

  /** True while this instance holds the lease and runs the subscription. */
  isLeader(): boolean {
    return this.leader;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    await ensureCheckpoint(this.db, this.def.name);
    this.unlisten = await this.db.listen(EVENTS_CHANNEL, () => this.wake());
    await this.tick();
    this.scheduleHeartbeat();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heartbeat) clearTimeout(this.heartbeat);
    this.wake(true);
    await this.loop;
    await this.tickRunning;
    await this.unlisten?.().catch(() => {});
    if (this.leader) {
      this.setLeader(false);
      await releaseLease(this.db, this.def.name, this.me).catch((err) =>
        this.o.log?.warn({ err: errorText(err), subscription: this.def.name }, 'could not free the lease (it expires)'),
      );
    }
  }

  /** NOTIFY, lease taken: ends a sleep that may be woken; `force` (stop) ends any. */
  private wake(force = false): void {
    this.woken = true;
    if (this.sleeper && (this.sleeper.wakeable || force)) this.sleeper.done();
  }

  /**
   * Waits ms, or until a wake-up when `wakeable` (the default). A pause that may not be woken (gathering) keeps a
   * NOTIFY that arrives meanwhile: the next wakeable sleep returns at once. Stop ends either.
   */
  private sleep(ms: number, wakeable = true): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (wakeable && this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleeper = undefined;
        if (wakeable) this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleeper = { done, wakeable };
    });
  }

  private setLeader(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    this.o.log?.info({ subscription: this.def.name, instance: this.me, leader }, 'subscription leadership changed');
    this.o.onLeadership?.(leader);
  }

  private scheduleHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeat = setTimeout(() => {
      this.tickRunning = this.tick().finally(() => {
        this.tickRunning = undefined;
        this.scheduleHeartbeat();
      });
    }, this.heartbeatMs);
  }

  /** Renews the lease we hold, or tries to take a free or expired one. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.leader) {
        const state = await renewLease(this.db, this.def.name, this.me, this.leaseMs);
        if (!state) this.setLeader(false);
        else {
          this.lastRenewedAt = Date.now();
          if (state === 'running' && this.state === 'stopped') {
            // Resumed (resumeSubscription): the failing event gets a fresh set of attempts.
            this.state = 'running';
            this.failing = undefined;
            this.wake();
          }
        }
        return;
      }
      const row = await acquireLease(this.db, this.def.name, this.me, this.leaseMs);
      if (!row) return;
      this.lastRenewedAt = Date.now();
      this.position = row.position;
      this.handled = row.handled;
      this.state = row.state;
      this.failing = row.failingEventId ? { eventId: row.failingEventId, attempts: row.failingAttempts } : undefined;
      this.isolateUntil = undefined;
      this.setLeader(true);
      this.wake();
    } catch (err) {
      this.o.log?.warn({ err: errorText(err), subscription: this.def.name }, 'subscription lease heartbeat failed');
      // Unrenewed, the lease runs out: stop before another instance may take it (the checkpoint guard is the backstop).
      if (this.leader && Date.now() - this.lastRenewedAt > this.leaseMs - this.heartbeatMs) this.setLeader(false);
    }
  }

  private async run(): Promise<void> {
    let heldBackDelay = 10;
    while (!this.stopped) {
      if (!this.leader || this.state === 'stopped') {
        await this.sleep(this.pollIntervalMs);
        continue;
      }
      try {
        const single = this.isolateUntil !== undefined;
        const batch = await this.step(single);
        if (batch.length === 0) {
          this.isolateUntil = undefined;
          // Committed events an older transaction holds back come soon: look again shortly, not at the next poll.
          if (await eventsHeldBack(this.db, this.position)) {
            if (this.gatherMs > 0) await this.sleep(Math.max(heldBackDelay, this.gatherMs), false);
            else await this.sleep(heldBackDelay);
            heldBackDelay = Math.min(heldBackDelay * 2, 500);
          } else {
            await this.sleep(this.pollIntervalMs);
            if (this.gatherMs > 0) await this.sleep(this.gatherMs, false);
          }
          continue;
        }
        heldBackDelay = 10;
        // Caught up: a subscription that gathers waits before reading again (under load every commit wakes it).
        if (this.gatherMs > 0 && batch.length < this.batchSize && !single) await this.sleep(this.gatherMs, false);
        // Yield to timers and I/O between batches: PGlite answers without a trip through the event loop, so a long
        // catch-up would otherwise starve the process's HTTP server.
        await new Promise((resolve) => setImmediate(resolve));
      } catch (err) {
        this.o.log?.warn({ err: errorText(err), subscription: this.def.name }, 'subscription read failed; retrying');
        await this.sleep(this.retryBaseMs);
      }
    }
  }

  /**
   * Reads the next batch and applies it in one transaction: the read, the checkpoint and the handler's statements
   * (a read of its own would be one more transaction per batch, for every subscription). Answers the batch read;
   * [] when there was nothing to read. A failure to read is thrown; a failure to apply is handled here.
   */
  private async step(single: boolean): Promise<StoredEvent[]> {
    const from = this.position;
    let batch: StoredEvent[] = [];
    let to: LogPosition | undefined;
    try {
      await this.db.transaction(async (tx) => {
        batch = await readAll(tx, from, single ? 1 : this.batchSize);
        const last = batch[batch.length - 1];
        to = last && positionOf(last);
        if (!to) return;
        const given = eventsFor(this.def, batch);
        await advanceCheckpoint(tx, this.def.name, this.me, from, to, batch.length);
        if (given.length > 0) await this.def.handle(given, tx);
      });
    } catch (err) {
      if (batch.length === 0) throw err;
      await this.failed(batch, single, err);
      return batch;
    }
    if (!to) return batch;
    this.position = to;
    this.handled += batch.length;
    this.failing = undefined;
    if (this.isolateUntil && comparePositions(to, this.isolateUntil) >= 0) this.isolateUntil = undefined;
    this.o.onBatch?.({ events: batch.length, position: to, handled: this.handled });
    return batch;
  }

  private async failed(batch: StoredEvent[], single: boolean, err: unknown): Promise<void> {
    if (err instanceof CheckpointMoved) {
      this.o.log?.warn({ subscription: this.def.name }, err.message);
      this.setLeader(false);
      // A rebuild's swap moves the checkpoint under a lease that is still ours: take it up again now.
      await this.tick();
      return;
    }
    if (isDatabaseUnavailable(err)) {
      await this.sleep(this.retryBaseMs * 10);
      return;
    }
    if (!single && batch.length > 1) {
      // Find the failing event: the batch again, one event at a time (no attempt is counted for the batch).
      this.isolateUntil = positionOf(batch[batch.length - 1] as StoredEvent);
      return;
    }
    const event = batch[0] as StoredEvent;
    const attempts = this.failing?.eventId === event.eventId ? this.failing.attempts + 1 : 1;
    this.failing = { eventId: event.eventId, attempts };
    const reason = errorText(err);
    this.o.log?.warn(
      { subscription: this.def.name, eventId: event.eventId, eventType: event.eventType, attempts, err: reason },
      'subscription handler failed',
    );
    if (attempts < this.maxAttempts) {
      await recordFailure(this.db, this.def.name, this.me, event.eventId, attempts, reason).catch(() => {});
      await this.sleep(this.backoff(attempts));
      return;
    }
    if (this.def.onFailure === 'stop') {
      await stopAtFailure(this.db, this.def.name, this.me, `${event.eventType} ${event.eventId}: ${reason}`);
      this.state = 'stopped';
      this.o.log?.error({ subscription: this.def.name, eventId: event.eventId }, 'subscription stopped at an event');
      return;
    }
    const from = this.position;
    const to = positionOf(event);
    try {
      await this.db.transaction(async (tx) => {
        await advanceCheckpoint(tx, this.def.name, this.me, from, to, 1);
        await parkEvent(tx, this.def.name, event, attempts, reason);
      });
    } catch (parkErr) {
      if (parkErr instanceof CheckpointMoved) this.setLeader(false);
      return;
    }
    this.o.log?.error({ subscription: this.def.name, eventId: event.eventId, reason }, 'subscription parked an event');
    this.position = to;
    this.handled += 1;
    this.failing = undefined;
  }

  /** Exponential with full jitter in its upper half: base·2^(n-1)/2 … base·2^(n-1), at most retryMaxMs. */
  private backoff(attempts: number): number {
    const ceiling = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempts - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}

/** Orders two readAll positions. */
export function comparePositions(a: LogPosition, b: LogPosition): number {
  const ta = BigInt(a.txId);
  const tb = BigInt(b.txId);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.globalPosition - b.globalPosition;
}
