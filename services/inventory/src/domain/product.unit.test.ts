import { describe, expect, it } from 'vitest';
import { decidePutProduct, decideRestock, type Product } from './product.js';

const pen: Product = {
  productId: 'pen',
  name: 'Pen',
  unitPrice: 150,
  currency: 'EUR',
  available: 10,
  reserved: 2,
  sold: 3,
};

describe('put a product (admin PUT)', () => {
  it('sets the stock available: the difference is a `set` movement; reserved and sold stay', () => {
    const d = decidePutProduct(pen, { productId: 'pen', name: 'Pen v2', unitPrice: 175, currency: 'EUR', stock: 4 });
    expect(d.product).toEqual({ ...pen, name: 'Pen v2', unitPrice: 175, available: 4 });
    expect(d.stock).toEqual([{ productId: 'pen', kind: 'set', deltaAvailable: -6, deltaReserved: 0, deltaSold: 0 }]);
  });
  it('a new product (its row made empty) gets all its stock as one movement', () => {
    const empty = { ...pen, available: 0, reserved: 0, sold: 0 };
    const d = decidePutProduct(empty, { productId: 'pen', name: 'Pen', unitPrice: 150, currency: 'EUR', stock: 7 });
    expect(d.stock).toEqual([{ productId: 'pen', kind: 'set', deltaAvailable: 7, deltaReserved: 0, deltaSold: 0 }]);
  });
  it('the same stock again: details only, no movement', () => {
    expect(decidePutProduct(pen, { ...pen, stock: 10 }).stock).toEqual([]);
  });
});

describe('restock', () => {
  it('adds to the stock available (a `restock` movement)', () => {
    const d = decideRestock(pen, 5);
    expect(d?.product).toEqual({ ...pen, available: 15 });
    expect(d?.stock).toEqual([
      { productId: 'pen', kind: 'restock', deltaAvailable: 5, deltaReserved: 0, deltaSold: 0 },
    ]);
  });
  it('a product that does not exist: nothing', () => {
    expect(decideRestock(undefined, 5)).toBeUndefined();
  });
});
