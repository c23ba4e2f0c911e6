/**
 * Dispatch at commit (docs/messaging.md "Dispatch at commit"). The process that committed outbox rows already holds
 * their messages: it publishes them at once, with publisher confirms, instead of waiting for a relay to wake up,
 * claim them in a transaction and publish them. Marking them published is batched: one UPDATE for all the messages
 * confirmed within a short window, off the path of the change that wrote them.
 *
 * The relay stays as the safety net (outboxRelay.ts, `graceMs`): a row still unpublished after the grace period —
 * its process died between commit and publish, the broker refused it, the mark was lost — is claimed and published
 * by whichever relay finds it. So a message leaves at least once; a second copy is absorbed by the consumers' inbox.
 *
 * Order: publishes are issued in the order the commits resolved in this process, on one confirm channel, so the
 * messages of one order (whose changes are serialized by the order's row lock) leave in commit order. Only when a
 * publish fails and a later message of the same order goes out at once can the two swap (the relay sends the first
 * one later); the consumers take messages out of order (SPEC §6), with the same outcome.
 */
import type { MessageBus, OutgoingMessage } from './bus/port.js';
import type { Database } from './db/port.js';
import type { Logger } from './log.js';
import { markMessagesPublished } from './outbox.js';

export interface DispatchMetrics {
  /** After messages were confirmed by the broker: how many, and each one's commit → confirm lag. */
  published?(count: number, lagsMs: number[]): void;
  /** After a publish failed (the relay will send them after the grace period). */
  failed?(count: number, error: unknown): void;
}

export interface OutboxDispatcherOptions {
  db: Database;
  bus: Pick<MessageBus, 'publish'>;
  log: Logger;
  /** How long confirmed messages wait to be marked together (default 100 ms; well under the relay's grace). */
  markDelayMs?: number;
  /** At most this many messages per mark statement (default 1000). */
  markBatchMax?: number;
  now?: () => Date;
  metrics?: DispatchMetrics;
}

/** Dispatchers by database: commitChange hands a committed effect's messages to the one of its database. */
const dispatchers = new WeakMap<Database, OutboxDispatcher>();

/** The dispatcher that publishes what commits on `db` (none: the relay publishes everything). */
export function outboxDispatcherOf(db: Database): OutboxDispatcher | undefined {
  return dispatchers.get(db);
}

export class OutboxDispatcher {
  private readonly db: Database;
  private readonly bus: Pick<MessageBus, 'publish'>;
  private readonly log: Logger;
  private readonly markDelayMs: number;
  private readonly markBatchMax: number;
  private readonly now: () => Date;
  private readonly metrics: DispatchMetrics | undefined;
  private readonly inflight = new Set<Promise<void>>();
  /** Message ids dispatched and not yet marked (or failed): the relay of this process leaves them alone. */
  private readonly unsettled = new Set<string>();
  private toMark: { id: string; at: Date }[] = [];
  private markTimer: NodeJS.Timeout | undefined;
  private marking: Promise<void> | undefined;
  private attached = false;
  /** Committed messages kept until release() (attach with hold). */
  private held: (readonly OutgoingMessage[])[] | undefined;
  private stopped = false;
  private failedLogged = 0;
  /** Counters since start (for tests, the bench and the status endpoints). */
  readonly counts = { dispatched: 0, published: 0, failed: 0, marked: 0, markStatements: 0 };

  constructor(o: OutboxDispatcherOptions) {
    this.db = o.db;
    this.bus = o.bus;
    this.log = o.log;
    this.markDelayMs = o.markDelayMs ?? 100;
    this.markBatchMax = o.markBatchMax ?? 1000;
    if (!(this.markDelayMs >= 0))
      throw new TypeError(`OutboxDispatcher: markDelayMs must be >= 0, got ${o.markDelayMs}`);
    if (!Number.isInteger(this.markBatchMax) || this.markBatchMax < 1)
      throw new TypeError(`OutboxDispatcher: markBatchMax must be an integer >= 1, got ${o.markBatchMax}`);
    this.now = o.now ?? (() => new Date());
    this.metrics = o.metrics;
  }

  /**
   * From now on, effects committed on this database are published at once. One dispatcher per database.
   * `hold`: keep them, in commit order, until release() — a process attaches before its consumers start (whatever
   * they commit then is this dispatcher's to send, not left to the relay's grace period, where a later message of
   * the same order could overtake it) and releases once every queue it publishes to is subscribed.
   */
  attach({ hold = false } = {}): void {
    const other = dispatchers.get(this.db);
    if (other && other !== this) throw new Error('OutboxDispatcher: this database already has a dispatcher');
    dispatchers.set(this.db, this);
    this.attached = true;
    if (hold) this.held ??= [];
  }

  /** Publishes what was held, in commit order, and everything from now on at once. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const messages of held) this.dispatch(messages);
  }

  /**
   * Publishes committed messages now; never throws and never makes the caller wait. A failure leaves the rows
   * unpublished for the relay.
   */
  dispatch(messages: readonly OutgoingMessage[]): void {
    if (messages.length === 0) return;
    if (this.held) {
      this.held.push(messages);
      return;
    }
    this.counts.dispatched += messages.length;
    for (const m of messages) this.unsettled.add(m.envelope.eventId);
    const committedAt = this.now().getTime();
    let publishing: Promise<void>;
    try {
      publishing = this.bus.publish(messages);
    } catch (error) {
      publishing = Promise.reject(error);
    }
    const done = publishing.then(
      () => this.confirmed(messages, committedAt),
      (error) => this.publishFailed(messages, error),
    );
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
  }

  /** Stops taking messages, waits for the publishes in flight and writes the last marks. */
  async stop(): Promise<void> {
    if (this.attached && dispatchers.get(this.db) === this) dispatchers.delete(this.db);
    this.attached = false;
    // Held messages were never sent: their rows stay unpublished for a relay.
    this.held = undefined;
    this.unsettled.clear();
    await this.flush();
    this.stopped = true;
  }

  /** Waits for the publishes in flight and writes every pending mark. */
  async flush(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    if (this.markTimer) clearTimeout(this.markTimer);
    this.markTimer = undefined;
    await this.marking;
    // A few tries: rows left unmarked (the database is gone) are published once more by a relay, not lost.
    for (let i = 0; i < 3 && this.toMark.length > 0; i++) await this.writeMarks();
  }

  private confirmed(messages: readonly OutgoingMessage[], committedAt: number): void {
    const at = this.now();
    this.counts.published += messages.length;
    for (const m of messages) this.toMark.push({ id: m.envelope.eventId, at });
    this.metrics?.published?.(
      messages.length,
      messages.map(() => Math.max(0, at.getTime() - committedAt)),
    );
    this.scheduleMarks();
  }

  /** Whether this message is being published or marked by this dispatcher (the relay then leaves its row alone). */
  isUnsettled(messageId: string): boolean {
    return this.unsettled.has(messageId);
  }

  private publishFailed(messages: readonly OutgoingMessage[], error: unknown): void {
    this.counts.failed += messages.length;
    for (const m of messages) this.unsettled.delete(m.envelope.eventId);
    this.metrics?.failed?.(messages.length, error);
    // One line per second at most: during a broker outage every commit fails to dispatch.
    const t = Date.now();
    if (t - this.failedLogged >= 1000) {
      this.failedLogged = t;
      this.log.warn(
        { err: error instanceof Error ? error.message : String(error), messages: messages.length },
        'dispatch at commit failed; the outbox relay publishes these after its grace period',
      );
    }
  }

  private scheduleMarks(): void {
    if (this.markTimer || this.marking || this.stopped) return;
    if (this.toMark.length >= this.markBatchMax) {
      this.marking = this.writeMarks();
      return;
    }
    this.markTimer = setTimeout(() => {
      this.markTimer = undefined;
      this.marking = this.writeMarks();
    }, this.markDelayMs);
    this.markTimer.unref?.();
  }

  /** One statement for up to markBatchMax messages (the same mark time for all: that of the last confirm). */
  private async writeMarks(): Promise<void> {
    const batch = this.toMark.splice(0, this.markBatchMax);
    if (batch.length > 0) {
      const at = batch[batch.length - 1]!.at;
      try {
        this.counts.markStatements++;
        this.counts.marked += await markMessagesPublished(
          this.db,
          batch.map((b) => b.id),
          at,
        );
        for (const b of batch) this.unsettled.delete(b.id);
      } catch (err) {
        // Unmarked rows are published once more by the relay after its grace period (the inbox absorbs it); the
        // marks are tried again with the next batch.
        this.log.warn(
          { err: err instanceof Error ? err.message : String(err), rows: batch.length },
          'outbox mark failed',
        );
        this.toMark.unshift(...batch);
        await new Promise((r) => setTimeout(r, Math.max(this.markDelayMs, 200)).unref?.());
      }
    }
    this.marking = undefined;
    if (this.toMark.length > 0) this.scheduleMarks();
  }
}
