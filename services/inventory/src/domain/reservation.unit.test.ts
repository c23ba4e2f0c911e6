import { describe, expect, it } from 'vitest';
import {
  decideInventory,
  type InventoryCommand,
  type InventoryOrderState,
  type ProductStock,
  type Reservation,
} from './reservation.js';

const now = new Date('2026-01-01T10:00:00.000Z');
const product = (productId: string, over: Partial<ProductStock> = {}): ProductStock => ({
  productId,
  unitPrice: 500,
  currency: 'EUR',
  available: 10,
  reserved: 0,
  sold: 0,
  ...over,
});
const state = (over: Partial<InventoryOrderState> = {}): InventoryOrderState => ({
  reservation: null,
  rollbackMarker: false,
  products: new Map([
    ['a', product('a')],
    ['b', product('b', { unitPrice: 250, available: 2 })],
  ]),
  ...over,
});
const reserve = (items: { productId: string; quantity: number; unitPrice: number }[], currency = 'EUR') =>
  ({ type: 'reserve', currency, items, ttlMs: 60_000 }) as const;
/** The decider at `now` unless told another time. */
const decide = (command: InventoryCommand, s: InventoryOrderState, at = now) => decideInventory(command, s, at);
const reservation = (status: Reservation['status']): Reservation => ({
  status,
  lines: [
    { productId: 'a', quantity: 3, unitPrice: 500 },
    { productId: 'b', quantity: 1, unitPrice: 250 },
  ],
  expiresAt: new Date(now.getTime() + 60_000),
});

describe('reserve (ORDER_CREATED)', () => {
  it('reserves every line: available → reserved, expiry after the TTL, INVENTORY_RESERVED', () => {
    const d = decide(
      reserve([
        { productId: 'a', quantity: 3, unitPrice: 500 },
        { productId: 'b', quantity: 2, unitPrice: 250 },
      ]),
      state(),
    );
    expect(d.reply).toEqual({
      eventType: 'INVENTORY_RESERVED',
      data: {
        items: [
          { productId: 'a', quantity: 3, unitPrice: 500 },
          { productId: 'b', quantity: 2, unitPrice: 250 },
        ],
      },
    });
    expect(d.stock).toEqual([
      { productId: 'a', kind: 'reservation', deltaAvailable: -3, deltaReserved: 3, deltaSold: 0 },
      { productId: 'b', kind: 'reservation', deltaAvailable: -2, deltaReserved: 2, deltaSold: 0 },
    ]);
    expect(d.reservation?.status).toBe('RESERVED');
    expect(d.reservation?.expiresAt.toISOString()).toBe('2026-01-01T10:01:00.000Z');
  });

  it.each([
    ['OUT_OF_STOCK', [{ productId: 'b', quantity: 3, unitPrice: 250 }], 'EUR', ['b']],
    ['UNKNOWN_PRODUCT', [{ productId: 'zz', quantity: 1, unitPrice: 1 }], 'EUR', ['zz']],
    ['PRICE_MISMATCH', [{ productId: 'a', quantity: 1, unitPrice: 499 }], 'EUR', ['a']],
    ['CURRENCY_MISMATCH', [{ productId: 'a', quantity: 1, unitPrice: 500 }], 'USD', ['a']],
  ])('%s reserves nothing and names the products', (reason, items, currency, productIds) => {
    const d = decide(reserve([{ productId: 'a', quantity: 1, unitPrice: 500 }, ...items], currency), state());
    expect(d.stock).toEqual([]);
    expect(d.reservation).toBeUndefined();
    expect(d.reply).toEqual({ eventType: 'INVENTORY_RESERVATION_FAILED', data: { reason, productIds } });
  });

  it('all or none: one short line fails the whole order', () => {
    const d = decide(
      reserve([
        { productId: 'a', quantity: 10, unitPrice: 500 },
        { productId: 'b', quantity: 5, unitPrice: 250 },
      ]),
      state(),
    );
    expect(d.reply?.eventType).toBe('INVENTORY_RESERVATION_FAILED');
    expect(d.stock).toEqual([]);
  });

  it('a rollback marker answers INVENTORY_RELEASED and reserves nothing', () => {
    const d = decide(reserve([{ productId: 'a', quantity: 1, unitPrice: 500 }]), state({ rollbackMarker: true }));
    expect(d.stock).toEqual([]);
    expect(d.reservation?.status).toBe('UNDONE_BEFORE_REQUEST');
    expect(d.reply).toEqual({ eventType: 'INVENTORY_RELEASED', data: {} });
  });

  it('an order already reserved is not reserved again', () => {
    expect(
      decide(
        reserve([{ productId: 'a', quantity: 1, unitPrice: 500 }]),
        state({ reservation: reservation('RESERVED') }),
      ),
    ).toEqual({ stock: [] });
  });
});

describe('commit (ORDER_CONFIRMED)', () => {
  it('moves reserved → sold once', () => {
    const d = decide({ type: 'commit' }, state({ reservation: reservation('RESERVED') }));
    expect(d.reservation?.status).toBe('COMMITTED');
    expect(d.stock[0]).toEqual({ productId: 'a', kind: 'commit', deltaAvailable: 0, deltaReserved: -3, deltaSold: 3 });
    expect(d.reply?.eventType).toBe('INVENTORY_COMMITTED');
  });
  it('no effect when already COMMITTED (a second confirmation)', () => {
    expect(decide({ type: 'commit' }, state({ reservation: reservation('COMMITTED') }))).toEqual({
      stock: [],
    });
  });
  it.each(['EXPIRED', 'RELEASED', 'UNDONE_BEFORE_REQUEST'] as const)(
    '%s: commits nothing and answers INVENTORY_RELEASED so that the order does not stay CONFIRMED',
    (s) => {
      expect(decide({ type: 'commit' }, state({ reservation: reservation(s) }))).toEqual({
        stock: [],
        reply: { eventType: 'INVENTORY_RELEASED', data: {} },
      });
    },
  );
  it('expired by the sweeper, then confirmed: stock back once, the confirmation answered released', () => {
    const expired = decide(
      { type: 'expire' },
      state({ reservation: reservation('RESERVED') }),
      new Date(now.getTime() + 60_000),
    );
    const confirm = decide({ type: 'commit' }, state({ reservation: expired.reservation ?? null }));
    expect(confirm.stock).toEqual([]);
    expect(confirm.reservation).toBeUndefined();
    expect(confirm.reply?.eventType).toBe('INVENTORY_RELEASED');
  });
  it('no effect without a reservation', () => {
    expect(decide({ type: 'commit' }, state())).toEqual({ stock: [] });
  });
});

describe('release (rollback requested / cancelled)', () => {
  it('reserved → available', () => {
    const d = decide({ type: 'release' }, state({ reservation: reservation('RESERVED') }));
    expect(d.reservation?.status).toBe('RELEASED');
    expect(d.stock[1]).toEqual({ productId: 'b', kind: 'release', deltaAvailable: 1, deltaReserved: -1, deltaSold: 0 });
    expect(d.reply?.eventType).toBe('INVENTORY_RELEASED');
  });
  it('committed: sold → available', () => {
    const d = decide({ type: 'release' }, state({ reservation: reservation('COMMITTED') }));
    expect(d.stock[0]).toEqual({ productId: 'a', kind: 'release', deltaAvailable: 3, deltaReserved: 0, deltaSold: -3 });
  });
  it('no reservation yet: stores a marker and still answers released', () => {
    const d = decide({ type: 'release' }, state());
    expect(d).toEqual({ stock: [], storeMarker: true, reply: { eventType: 'INVENTORY_RELEASED', data: {} } });
  });
  it.each(['RELEASED', 'EXPIRED', 'UNDONE_BEFORE_REQUEST'] as const)(
    '%s: releases nothing twice, answers again',
    (s) => {
      const d = decide({ type: 'release' }, state({ reservation: reservation(s) }));
      expect(d.stock).toEqual([]);
      expect(d.reservation).toBeUndefined();
      expect(d.reply?.eventType).toBe('INVENTORY_RELEASED');
    },
  );
});

describe('expire (sweeper)', () => {
  it('releases a reservation past its expiry', () => {
    const d = decide(
      { type: 'expire' },
      state({ reservation: reservation('RESERVED') }),
      new Date(now.getTime() + 60_000),
    );
    expect(d.reservation?.status).toBe('EXPIRED');
    expect(d.stock.map((c) => c.kind)).toEqual(['expiry', 'expiry']);
    expect(d.reply?.eventType).toBe('INVENTORY_RELEASED');
  });
  it('leaves a reservation not yet expired, or committed', () => {
    expect(decide({ type: 'expire' }, state({ reservation: reservation('RESERVED') }))).toEqual({
      stock: [],
    });
    const later = new Date(now.getTime() + 120_000);
    expect(decide({ type: 'expire' }, state({ reservation: reservation('COMMITTED') }), later)).toEqual({
      stock: [],
    });
  });
});
