import type { Database, Logger } from '@commerce/kernel';

/** One order as the live feed shows it. */
export interface FeedOrder {
  orderId: string;
  customerId: string;
  status: string;
  totalAmount: number;
  currency: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type FeedMessage =
  | { event: 'snapshot'; data: { orders: FeedOrder[]; counts: Record<string, number>; rate: number[] } }
  | { event: 'orders'; data: FeedOrder[] }
  | { event: 'stats'; data: { counts: Record<string, number>; rate: number[] } };

type Listener = (m: FeedMessage) => void;

interface Row {
  order_id: string;
  customer_id: string;
  status: string;
  total_amount: string | number;
  currency: string;
  version: number;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string) => (v instanceof Date ? v : new Date(v)).toISOString();
const toFeed = (r: Row): FeedOrder => ({
  orderId: r.order_id,
  customerId: r.customer_id,
  status: r.status,
  totalAmount: Number(r.total_amount),
  currency: r.currency,
  version: Number(r.version),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

const COLUMNS = `order_id::text AS order_id, customer_id, status, total_amount, currency, version, created_at, updated_at`;
/** Window of the rate chart, in seconds. */
export const RATE_WINDOW_S = 60;

/**
 * Watches the order read model (table `orders`) for the console's live feed: one poller per order service,
 * shared by every open console, running only while at least one is open.
 *
 * `updated_at` is the time the change was decided, and the row becomes visible at commit, a little later; so
 * each poll reads a window reaching back `overlapMs` behind the newest change seen and drops the versions it
 * already sent: a change that committed late is still seen, and none is sent twice.
 */
export class OrderFeed {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private since = new Date(0);
  /** orderId → version already sent, for changes inside the overlap window. */
  private sent = new Map<string, { version: number; at: number }>();
  private lastStatsAt = 0;

  constructor(
    private readonly db: Database,
    private readonly log: Logger,
    private readonly opts: { intervalMs?: number; statsIntervalMs?: number; overlapMs?: number } = {},
  ) {}

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Adds a listener and sends it a snapshot first; returns the function that removes it. */
  async subscribe(listener: Listener): Promise<() => void> {
    const [orders, stats] = await Promise.all([this.latest(50), this.stats()]);
    listener({ event: 'snapshot', data: { orders, ...stats } });
    this.listeners.add(listener);
    if (!this.timer) await this.begin();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.end();
    };
  }

  /** Stops the poller and forgets every listener (server closing). */
  close(): void {
    this.listeners.clear();
    this.end();
  }

  private async begin(): Promise<void> {
    // Start from now: the snapshot already holds what happened before.
    const res = await this.db.query<{ at: Date | string | null }>('SELECT max(updated_at) AS at FROM orders');
    const at = res.rows[0]?.at;
    this.since = at ? new Date(at) : new Date(0);
    this.sent.clear();
    // Remember what the overlap window holds now: the snapshot carried it already.
    await this.changes();
    // Remember what the overlap window holds now: the snapshot carried it already.
    await this.changes();
    const intervalMs = this.opts.intervalMs ?? 200;
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  private end(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private emit(m: FeedMessage): void {
    for (const l of this.listeners) {
      try {
        l(m);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'console feed listener failed');
      }
    }
  }

  private async tick(): Promise<void> {
    if (this.polling || this.listeners.size === 0) return;
    this.polling = true;
    try {
      const changed = await this.changes();
      if (changed.length > 0) this.emit({ event: 'orders', data: changed });
      const now = Date.now();
      if (now - this.lastStatsAt >= (this.opts.statsIntervalMs ?? 1000)) {
        this.lastStatsAt = now;
        this.emit({ event: 'stats', data: await this.stats() });
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'console feed poll failed; retrying');
    } finally {
      this.polling = false;
    }
  }

  private async changes(): Promise<FeedOrder[]> {
    const overlapMs = this.opts.overlapMs ?? 5000;
    const from = new Date(this.since.getTime() - overlapMs);
    const res = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM orders WHERE updated_at > $1 ORDER BY updated_at, order_id LIMIT 1000`,
      [from],
    );
    const out: FeedOrder[] = [];
    for (const row of res.rows) {
      const o = toFeed(row);
      const at = Date.parse(o.updatedAt);
      if (at > this.since.getTime()) this.since = new Date(at);
      const prev = this.sent.get(o.orderId);
      if (prev && prev.version >= o.version) continue;
      this.sent.set(o.orderId, { version: o.version, at });
      out.push(o);
    }
    const horizon = this.since.getTime() - overlapMs;
    for (const [id, v] of this.sent) if (v.at < horizon) this.sent.delete(id);
    return out;
  }

  async latest(limit: number): Promise<FeedOrder[]> {
    const res = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM orders ORDER BY updated_at DESC, order_id DESC LIMIT $1`,
      [limit],
    );
    return res.rows.map(toFeed);
  }

  /** Orders per status, and orders created per second over the last minute (oldest second first). */
  async stats(): Promise<{ counts: Record<string, number>; rate: number[] }> {
    const counts = await this.db.query<{ status: string; n: string | number }>(
      'SELECT status, count(*) AS n FROM orders GROUP BY status',
    );
    const nowS = Math.floor(Date.now() / 1000);
    const rate = await this.db.query<{ s: string | number; n: string | number }>(
      `SELECT floor(extract(epoch FROM created_at)) AS s, count(*) AS n
         FROM orders WHERE created_at > $1 GROUP BY 1`,
      [new Date((nowS - RATE_WINDOW_S + 1) * 1000)],
    );
    const series = new Array<number>(RATE_WINDOW_S).fill(0);
    for (const r of rate.rows) {
      const i = Number(r.s) - (nowS - RATE_WINDOW_S + 1);
      if (i >= 0 && i < RATE_WINDOW_S) series[i] = Number(r.n);
    }
    return { counts: Object.fromEntries(counts.rows.map((r) => [r.status, Number(r.n)])), rate: series };
  }
}
