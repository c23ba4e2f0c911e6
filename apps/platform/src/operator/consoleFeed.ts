import type { Database, Logger } from '@commerce/kernel';
import {
  countOrdersByStatus,
  lastOrderChangeAt,
  listOrdersChangedSince,
  type OrderView,
  ordersPerSecondSince,
  recentOrders,
} from '@commerce/order';

export type FeedMessage =
  | { event: 'snapshot'; data: { orders: OrderView[]; counts: Record<string, number>; rate: number[] } }
  | { event: 'orders'; data: OrderView[] }
  | { event: 'stats'; data: { counts: Record<string, number>; rate: number[] } };

type Listener = (m: FeedMessage) => void;

/** Window of the rate chart, in seconds. */
export const RATE_WINDOW_S = 60;
/** Most changed orders one poll sends. */
const CHANGES_PER_POLL = 1000;

/**
 * Watches the order read model for the console's live feed, through the order service's queries: one poller per
 * order service, shared by every open console, running only while at least one is open. Orders go out as the order
 * service's own view of them (OrderView), as `GET /orders/{id}` answers.
 *
 * An order's last change time is when the change was decided, and the row becomes visible at commit, a little later;
 * so each poll reads a window reaching back `overlapMs` behind the newest change seen and drops the versions it
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
    this.since = (await lastOrderChangeAt(this.db)) ?? new Date(0);
    this.sent.clear();
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

  private async changes(): Promise<OrderView[]> {
    const overlapMs = this.opts.overlapMs ?? 5000;
    const from = new Date(this.since.getTime() - overlapMs);
    const out: OrderView[] = [];
    for (const o of await listOrdersChangedSince(this.db, from, CHANGES_PER_POLL)) {
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

  latest(limit: number): Promise<OrderView[]> {
    return recentOrders(this.db, limit);
  }

  /** Orders per status, and orders created per second over the last minute (oldest second first). */
  async stats(): Promise<{ counts: Record<string, number>; rate: number[] }> {
    const first = Math.floor(Date.now() / 1000) - RATE_WINDOW_S + 1;
    const [counts, perSecond] = await Promise.all([
      countOrdersByStatus(this.db),
      ordersPerSecondSince(this.db, new Date(first * 1000)),
    ]);
    const rate = Array.from({ length: RATE_WINDOW_S }, (_, i) => perSecond.get(first + i) ?? 0);
    return { counts, rate };
  }
}
