import type { Queryable } from './db/port.js';
import type { Logger } from './log.js';

export interface RetentionOptions {
  db: Queryable;
  log: Logger;
  /** Rows older than this are deleted. */
  retentionMs: number;
  /** How often the job runs (default 60 s). */
  sweepMs?: number;
  /** Rows per DELETE (default 5,000): short statements, no long lock on a busy table. */
  batchSize?: number;
  now?: () => Date;
}

/** Deletes up to `limit` rows older than `before`, oldest first; returns how many. */
export type DeleteBefore = (db: Queryable, before: Date, limit: number) => Promise<number>;

/**
 * A table's retention job (inbox, idempotency keys): without it the table grows by one row per message or request
 * for ever. Every `sweepMs` it deletes the rows older than `retentionMs`, batch by batch, until none is left.
 * Failures are logged and tried next time.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private readonly sweepMs: number;
  private readonly batchSize: number;
  private readonly now: () => Date;

  constructor(
    /** What is pruned, for logs and errors ("inbox", "idempotency key"). */
    private readonly what: string,
    private readonly deleteBefore: DeleteBefore,
    private readonly o: RetentionOptions,
  ) {
    for (const [name, v] of [
      ['retentionMs', o.retentionMs],
      ['sweepMs', o.sweepMs ?? 60_000],
      ['batchSize', o.batchSize ?? 5_000],
    ] as const)
      if (!Number.isInteger(v) || v <= 0)
        throw new TypeError(`${what} retention: ${name} must be a positive integer, got ${v}`);
    this.sweepMs = o.sweepMs ?? 60_000;
    this.batchSize = o.batchSize ?? 5_000;
    this.now = o.now ?? (() => new Date());
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.sweep().catch((err) =>
        this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, `${this.what} retention failed`),
      );
    }, this.sweepMs);
    this.timer.unref();
  }

  /** One run: deletes every row older than the retention, in batches; returns how many. Runs never overlap. */
  sweep(): Promise<number> {
    this.running ??= (async () => {
      try {
        const before = new Date(this.now().getTime() - this.o.retentionMs);
        let total = 0;
        for (;;) {
          const n = await this.deleteBefore(this.o.db, before, this.batchSize);
          total += n;
          if (n < this.batchSize) break;
        }
        if (total > 0) this.o.log.debug({ deleted: total }, `${this.what} retention`);
        return total;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
  }
}
