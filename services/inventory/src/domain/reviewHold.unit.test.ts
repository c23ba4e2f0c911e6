import { describe, expect, it } from 'vitest';
import { decideInventory, type InventoryOrderState } from './reservation.js';
import { decideReviewHold } from './reviewHold.js';

const now = new Date('2026-03-01T10:00:00Z');
const lines = [{ productId: 'p-1', quantity: 2, unitPrice: 100 }];
const state = (status: 'RESERVED' | 'RELEASED' | 'COMMITTED', expiresAt: Date): InventoryOrderState => ({
  reservation: { status, lines, expiresAt },
  rollbackMarker: false,
  products: new Map(),
});
const TTL = 60_000;

describe('inventory keeps a reviewed order’s stock', () => {
  const due = new Date(now.getTime() + 3_600_000);
  it('moves a live reservation’s expiry to the review deadline plus the TTL, so the sweeper leaves it', () => {
    const d = decideReviewHold(state('RESERVED', new Date(now.getTime() + TTL)), due, TTL);
    expect(d.stock).toEqual([]);
    expect(d.reply).toBeUndefined();
    expect(d.reservation?.expiresAt).toEqual(new Date(due.getTime() + TTL));
    const later = new Date(now.getTime() + 2 * TTL);
    expect(decideInventory({ type: 'expire' }, { ...state('RESERVED', d.reservation!.expiresAt) }, later)).toEqual({
      stock: [],
    });
  });
  it('a duplicate, or a reservation no longer live, changes nothing', () => {
    expect(decideReviewHold(state('RESERVED', new Date(due.getTime() + TTL)), due, TTL)).toEqual({ stock: [] });
    expect(decideReviewHold(state('RELEASED', now), due, TTL)).toEqual({ stock: [] });
    expect(decideReviewHold(state('COMMITTED', now), due, TTL)).toEqual({ stock: [] });
    expect(decideReviewHold({ reservation: null, rollbackMarker: false, products: new Map() }, due, TTL)).toEqual({
      stock: [],
    });
  });
});
