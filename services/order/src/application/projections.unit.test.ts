import { describe, expect, it } from 'vitest';
import {
  foldAnalytics,
  foldCustomerHistory,
  latencyBucketOf,
  type OrderFacts,
  type ProjectedEvent,
  UnknownOrderError,
} from './projections.js';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const created = (id: string, at: string, currency = 'EUR'): ProjectedEvent => ({
  eventType: 'ORDER_CREATED',
  streamId: `order-${id}`,
  occurredAt: at,
  data: { customerId: 'c1', currency, totalAmount: 700, items: [{ productId: 'p1', quantity: 2, unitPrice: 350 }] },
});
const event = (id: string, eventType: string, at: string, data: unknown = {}): ProjectedEvent => ({
  eventType,
  streamId: `order-${id}`,
  occurredAt: at,
  data,
});

describe('the sales analytics fold', () => {
  it('counts placed orders and revenue per currency per hour and day, and completed orders with their products', () => {
    const c = foldAnalytics(
      [
        created(A, '2026-03-01T10:15:00.000Z'),
        event(A, 'ORDER_CONFIRMED', '2026-03-01T10:15:00.200Z'),
        event(A, 'ORDER_COMPLETED', '2026-03-01T11:00:00.000Z'),
        created(B, '2026-03-01T10:59:59.000Z', 'USD'),
      ],
      new Map(),
    );
    expect(c.sales).toEqual(
      expect.arrayContaining([
        {
          period: 'hour',
          bucket: '2026-03-01T10:00:00.000Z',
          currency: 'EUR',
          ordersPlaced: 1,
          amountPlaced: 700,
          ordersCompleted: 0,
          revenue: 0,
        },
        {
          period: 'hour',
          bucket: '2026-03-01T11:00:00.000Z',
          currency: 'EUR',
          ordersPlaced: 0,
          amountPlaced: 0,
          ordersCompleted: 1,
          revenue: 700,
        },
        {
          period: 'day',
          bucket: '2026-03-01T00:00:00.000Z',
          currency: 'EUR',
          ordersPlaced: 1,
          amountPlaced: 700,
          ordersCompleted: 1,
          revenue: 700,
        },
        {
          period: 'day',
          bucket: '2026-03-01T00:00:00.000Z',
          currency: 'USD',
          ordersPlaced: 1,
          amountPlaced: 700,
          ordersCompleted: 0,
          revenue: 0,
        },
      ]),
    );
    expect(c.outcomes).toEqual([{ status: 'COMPLETED', delta: 1 }]);
    // 44 min 45 s from creation to completion: above the last bound (5 min).
    expect(c.latency).toEqual([{ hour: '2026-03-01T11:00:00.000Z', le: -1, count: 1 }]);
    expect(c.products).toEqual([{ productId: 'p1', currency: 'EUR', units: 2, revenue: 700 }]);
    expect(c.facts.map((f) => [f.orderId, f.finalStatus])).toEqual([
      [A, 'COMPLETED'],
      [B, null],
    ]);
  });

  it('moves an order from one outcome to another (a retried compensation) and times it only once', () => {
    const known = new Map<string, OrderFacts>([
      [
        A,
        {
          orderId: A,
          currency: 'EUR',
          totalAmount: 700,
          items: [],
          createdAt: '2026-03-01T10:00:00.000Z',
          finalStatus: 'COMPENSATION_FAILED',
        },
      ],
    ]);
    const c = foldAnalytics([event(A, 'ORDER_COMPENSATED', '2026-03-01T12:00:00.000Z')], known);
    expect(c.outcomes).toEqual(
      expect.arrayContaining([
        { status: 'COMPENSATION_FAILED', delta: -1 },
        { status: 'COMPENSATED', delta: 1 },
      ]),
    );
    expect(c.latency).toEqual([]);
  });

  it('counts compensations and their reasons by kind', () => {
    const c = foldAnalytics(
      [
        created(A, '2026-03-01T10:00:00.000Z'),
        event(A, 'ORDER_CANCELLED', '2026-03-01T10:00:00.300Z', { reasons: ['INVENTORY_OUT_OF_STOCK: p1, p2'] }),
        event(A, 'ORDER_COMPENSATION_STARTED', '2026-03-01T10:00:00.300Z'),
      ],
      new Map(),
    );
    expect(c.compensations).toEqual(
      expect.arrayContaining([
        { kind: 'reason', reason: 'INVENTORY_OUT_OF_STOCK', count: 1 },
        { kind: 'started', reason: '', count: 1 },
      ]),
    );
    expect(c.latency).toEqual([{ hour: '2026-03-01T10:00:00.000Z', le: 500, count: 1 }]);
  });

  it('refuses a final event of an order it never saw created, rather than skipping it', () => {
    expect(() => foldAnalytics([event(A, 'ORDER_COMPLETED', '2026-03-01T10:00:00.000Z')], new Map())).toThrow(
      UnknownOrderError,
    );
  });

  it('puts latencies in the bucket of their upper bound', () => {
    expect([0, 100, 101, 300_000, 300_001].map(latencyBucketOf)).toEqual([100, 100, 250, 300_000, -1]);
  });
});

describe('the customer history fold', () => {
  it('creates one row per order and keeps the last status each order reached in the batch', () => {
    const c = foldCustomerHistory([
      created(A, '2026-03-01T10:00:00.000Z'),
      event(A, 'ORDER_CONFIRMED', '2026-03-01T10:00:01.000Z'),
      event(A, 'ORDER_COMPLETED', '2026-03-01T10:00:02.000Z'),
      event(B, 'INVENTORY_RESERVED', '2026-03-01T10:00:02.000Z'),
    ]);
    expect(c.created).toMatchObject([
      { orderId: A, customerId: 'c1', currency: 'EUR', totalAmount: 700, status: 'PENDING' },
    ]);
    expect(c.statuses).toEqual([{ orderId: A, status: 'COMPLETED', at: '2026-03-01T10:00:02.000Z' }]);
  });
});
