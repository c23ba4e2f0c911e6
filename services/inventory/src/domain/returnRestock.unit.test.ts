import { describe, expect, it } from 'vitest';
import type { ProductStock, Reservation } from './reservation.js';
import { decideReturnRestock, type RestockState, type ReturnRestock } from './returnRestock.js';

const R1 = '11111111-2222-4333-8444-555555555555';
const R2 = '11111111-2222-4333-8444-666666666666';
const lines = [
  { productId: 'p-1', quantity: 2, unitPrice: 1250 },
  { productId: 'p-2', quantity: 1, unitPrice: 500 },
];
const stock = (productId: string, sold: number): ProductStock => ({
  productId,
  unitPrice: 1,
  currency: 'EUR',
  available: 5,
  reserved: 0,
  sold,
});
const committed: Reservation = { status: 'COMMITTED', lines, expiresAt: new Date(0) };
const state = (over: Partial<RestockState> = {}): RestockState => ({
  reservation: committed,
  restocks: new Map(),
  products: new Map([
    ['p-1', stock('p-1', 2)],
    ['p-2', stock('p-2', 1)],
  ]),
  ...over,
});
const restock = (returnId: string, items: { productId: string; quantity: number; unitPrice: number }[]) => ({
  type: 'restock' as const,
  returnId,
  items,
});

describe('restocking a return (decideReturnRestock)', () => {
  it('puts the units back on sale: available + q, sold − q, one `return` change per line', () => {
    const d = decideReturnRestock(restock(R1, [{ productId: 'p-1', quantity: 1, unitPrice: 1250 }]), state());
    expect(d.stock).toEqual([{ productId: 'p-1', kind: 'return', deltaAvailable: 1, deltaReserved: 0, deltaSold: -1 }]);
    expect(d.reply).toEqual({
      eventType: 'INVENTORY_RETURN_RESTOCKED',
      data: { returnId: R1, items: [{ productId: 'p-1', quantity: 1, unitPrice: 1250 }] },
    });
    expect(d.restock?.status).toBe('RESTOCKED');
  });

  it('a duplicate request answers the same and moves nothing', () => {
    const first = decideReturnRestock(restock(R1, [{ productId: 'p-1', quantity: 1, unitPrice: 1250 }]), state());
    const again = decideReturnRestock(
      restock(R1, [{ productId: 'p-1', quantity: 1, unitPrice: 1250 }]),
      state({ restocks: new Map([[R1, first.restock as ReturnRestock]]) }),
    );
    expect(again).toEqual({ stock: [], reply: first.reply });
  });

  it('several returns of one order restock up to what it bought, never more', () => {
    const first = decideReturnRestock(restock(R1, [{ productId: 'p-1', quantity: 2, unitPrice: 1250 }]), state());
    const after = state({ restocks: new Map([[R1, first.restock as ReturnRestock]]) });
    const more = decideReturnRestock(restock(R2, [{ productId: 'p-1', quantity: 1, unitPrice: 1250 }]), after);
    expect(more.stock).toEqual([]);
    expect(more.reply).toEqual({
      eventType: 'INVENTORY_RETURN_RESTOCK_FAILED',
      data: { returnId: R2, reason: 'EXCEEDS_SOLD', productIds: ['p-1'] },
    });
    expect(
      decideReturnRestock(restock(R2, [{ productId: 'p-2', quantity: 1, unitPrice: 500 }]), after).stock,
    ).toHaveLength(1);
  });

  it.each([
    ['the order sold nothing (no committed reservation)', state({ reservation: null }), 'NOT_SOLD'],
    ['the reservation was released', state({ reservation: { ...committed, status: 'RELEASED' } }), 'NOT_SOLD'],
    ['the product is gone', state({ products: new Map([['p-2', stock('p-2', 1)]]) }), 'UNKNOWN_PRODUCT'],
    [
      "the product's sold count cannot cover it",
      state({ products: new Map([['p-1', stock('p-1', 0)]]) }),
      'EXCEEDS_SOLD',
    ],
  ])('refuses when %s, with a reason, moving nothing', (_n, s, reason) => {
    const d = decideReturnRestock(restock(R1, [{ productId: 'p-1', quantity: 1, unitPrice: 1250 }]), s);
    expect(d.stock).toEqual([]);
    expect(d.reply).toMatchObject({ eventType: 'INVENTORY_RETURN_RESTOCK_FAILED', data: { reason } });
    expect(d.restock).toMatchObject({ status: 'FAILED', reason });
  });
});
