/**
 * The folds of the order service's projections fed by a subscription to its event store (adapters/projections.ts
 * writes what they answer). Pure: a batch of events and what the projection already knows in, changes out.
 */
import { FINAL_STATUSES, type OrderStatus } from '../domain/index.js';

/** What a projection sees of a stored event. */
export interface ProjectedEvent {
  eventType: string;
  streamId: string;
  data: unknown;
  occurredAt: string;
}

const STATUS_OF: Readonly<Record<string, OrderStatus>> = {
  ORDER_CREATED: 'PENDING',
  ORDER_CONFIRMED: 'CONFIRMED',
  ORDER_COMPLETED: 'COMPLETED',
  ORDER_CANCELLED: 'CANCELLED',
  ORDER_COMPENSATION_STARTED: 'COMPENSATION_PENDING',
  ORDER_COMPENSATED: 'COMPENSATED',
  ORDER_COMPENSATION_FAILED: 'COMPENSATION_FAILED',
};

/** The event types that change an order's status: the ones the projections subscribe to. */
export const ORDER_STATUS_EVENTS: readonly string[] = Object.keys(STATUS_OF);

export function orderIdOfStream(streamId: string): string | undefined {
  return streamId.startsWith('order-') ? streamId.slice('order-'.length) : undefined;
}

interface CreatedData {
  customerId: string;
  currency: string;
  totalAmount: number;
  items: { productId: string; quantity: number; unitPrice: number }[];
}

// ---------------------------------------------------------------------------------------------------------------
// Customer order history: one row per order keyed by customer; the summary is read from them.

export interface CustomerOrderRow {
  orderId: string;
  customerId: string;
  currency: string;
  totalAmount: number;
  status: OrderStatus;
  createdAt: string;
  updatedAt: string;
}

export interface CustomerHistoryChanges {
  created: CustomerOrderRow[];
  /** The last status each order reached in the batch (applied after `created`). */
  statuses: { orderId: string; status: OrderStatus; at: string }[];
}

export function foldCustomerHistory(events: readonly ProjectedEvent[]): CustomerHistoryChanges {
  const created: CustomerOrderRow[] = [];
  const statuses = new Map<string, { orderId: string; status: OrderStatus; at: string }>();
  for (const e of events) {
    const orderId = orderIdOfStream(e.streamId);
    const status = STATUS_OF[e.eventType];
    if (!orderId || !status) continue;
    if (e.eventType === 'ORDER_CREATED') {
      const d = e.data as CreatedData;
      created.push({
        orderId,
        customerId: d.customerId,
        currency: d.currency,
        totalAmount: d.totalAmount,
        status,
        createdAt: e.occurredAt,
        updatedAt: e.occurredAt,
      });
    } else statuses.set(orderId, { orderId, status, at: e.occurredAt });
  }
  return { created, statuses: [...statuses.values()] };
}

// ---------------------------------------------------------------------------------------------------------------
// Sales analytics.

/** What the analytics projection remembers of each order (its own table). */
export interface OrderFacts {
  orderId: string;
  currency: string;
  totalAmount: number;
  items: CreatedData['items'];
  createdAt: string;
  finalStatus: OrderStatus | null;
}

export interface SalesBucket {
  period: 'hour' | 'day';
  bucket: string;
  currency: string;
  ordersPlaced: number;
  amountPlaced: number;
  ordersCompleted: number;
  revenue: number;
}

/** Upper bounds (ms) of the order-to-final latency histogram; the last bucket is everything above. */
export const LATENCY_BUCKETS_MS: readonly number[] = [100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000];
/** The bucket of a latency: its upper bound, or -1 for "above the last". */
export function latencyBucketOf(ms: number): number {
  return LATENCY_BUCKETS_MS.find((le) => ms <= le) ?? -1;
}

export interface AnalyticsChanges {
  /** New orders and orders whose final status changed. */
  facts: OrderFacts[];
  sales: SalesBucket[];
  /** Orders per final status: +1 for the status reached, −1 for the one left (COMPENSATION_FAILED → COMPENSATED). */
  outcomes: { status: OrderStatus; delta: number }[];
  latency: { hour: string; le: number; count: number }[];
  products: { productId: string; currency: string; units: number; revenue: number }[];
  /** kind: started (compensations begun), reason (why an order was cancelled), failed (why a compensation failed). */
  compensations: { kind: 'started' | 'reason' | 'failed'; reason: string; count: number }[];
}

const hourOf = (iso: string) => `${iso.slice(0, 13)}:00:00.000Z`;
const dayOf = (iso: string) => `${iso.slice(0, 10)}T00:00:00.000Z`;
/** "INVENTORY_OUT_OF_STOCK: p1, p2" → "INVENTORY_OUT_OF_STOCK": reasons are counted by kind, not by product. */
const reasonKind = (r: string) => r.split(':')[0]?.trim() || r;

/** The order a final event refers to was never created (its ORDER_CREATED parked?): the event fails, visibly. */
export class UnknownOrderError extends Error {
  constructor(orderId: string, eventType: string) {
    super(`${eventType} for order ${orderId}, whose ORDER_CREATED the analytics never saw`);
  }
}

function add<T>(m: Map<string, T>, key: string, init: () => T, apply: (t: T) => void): void {
  let t = m.get(key);
  if (!t) {
    t = init();
    m.set(key, t);
  }
  apply(t);
}

export function foldAnalytics(
  events: readonly ProjectedEvent[],
  known: ReadonlyMap<string, OrderFacts>,
): AnalyticsChanges {
  const facts = new Map<string, OrderFacts>();
  const changed = new Set<string>();
  const sales = new Map<string, SalesBucket>();
  const outcomes = new Map<string, number>();
  const latency = new Map<string, { hour: string; le: number; count: number }>();
  const products = new Map<string, { productId: string; currency: string; units: number; revenue: number }>();
  const compensations = new Map<string, { kind: 'started' | 'reason' | 'failed'; reason: string; count: number }>();
  const bump = (at: string, currency: string, f: (b: SalesBucket) => void) => {
    for (const [period, bucket] of [
      ['hour', hourOf(at)],
      ['day', dayOf(at)],
    ] as const)
      add(
        sales,
        `${period}|${bucket}|${currency}`,
        () => ({ period, bucket, currency, ordersPlaced: 0, amountPlaced: 0, ordersCompleted: 0, revenue: 0 }),
        f,
      );
  };
  const compensation = (kind: 'started' | 'reason' | 'failed', reason: string) =>
    add(
      compensations,
      `${kind}|${reason}`,
      () => ({ kind, reason, count: 0 }),
      (c) => c.count++,
    );

  for (const e of events) {
    const orderId = orderIdOfStream(e.streamId);
    const status = STATUS_OF[e.eventType];
    if (!orderId || !status) continue;
    if (e.eventType === 'ORDER_CREATED') {
      const d = e.data as CreatedData;
      facts.set(orderId, {
        orderId,
        currency: d.currency,
        totalAmount: d.totalAmount,
        items: d.items,
        createdAt: e.occurredAt,
        finalStatus: null,
      });
      changed.add(orderId);
      bump(e.occurredAt, d.currency, (b) => {
        b.ordersPlaced++;
        b.amountPlaced += d.totalAmount;
      });
      continue;
    }
    if (e.eventType === 'ORDER_COMPENSATION_STARTED') compensation('started', '');
    if (e.eventType === 'ORDER_CANCELLED')
      for (const r of (e.data as { reasons: string[] }).reasons) compensation('reason', reasonKind(r));
    if (e.eventType === 'ORDER_COMPENSATION_FAILED')
      for (const r of (e.data as { reasons: string[] }).reasons) compensation('failed', reasonKind(r));
    if (!FINAL_STATUSES.has(status)) continue;

    const current = facts.get(orderId) ?? known.get(orderId);
    if (!current) throw new UnknownOrderError(orderId, e.eventType);
    const previous = current.finalStatus;
    if (previous === status) continue;
    if (previous) outcomes.set(previous, (outcomes.get(previous) ?? 0) - 1);
    outcomes.set(status, (outcomes.get(status) ?? 0) + 1);
    if (!previous) {
      const ms = Date.parse(e.occurredAt) - Date.parse(current.createdAt);
      const le = latencyBucketOf(Math.max(0, ms));
      add(
        latency,
        `${hourOf(e.occurredAt)}|${le}`,
        () => ({ hour: hourOf(e.occurredAt), le, count: 0 }),
        (l) => l.count++,
      );
    }
    if (status === 'COMPLETED') {
      bump(e.occurredAt, current.currency, (b) => {
        b.ordersCompleted++;
        b.revenue += current.totalAmount;
      });
      for (const item of current.items)
        add(
          products,
          `${item.productId}|${current.currency}`,
          () => ({ productId: item.productId, currency: current.currency, units: 0, revenue: 0 }),
          (p) => {
            p.units += item.quantity;
            p.revenue += item.quantity * item.unitPrice;
          },
        );
    }
    facts.set(orderId, { ...current, finalStatus: status });
    changed.add(orderId);
  }
  return {
    facts: [...changed].map((id) => facts.get(id) as OrderFacts),
    sales: [...sales.values()],
    outcomes: [...outcomes]
      .filter(([, d]) => d !== 0)
      .map(([status, delta]) => ({ status: status as OrderStatus, delta })),
    latency: [...latency.values()],
    products: [...products.values()],
    compensations: [...compensations.values()],
  };
}
