import type { Change } from '@commerce/kernel';
import { decidePutProduct, type Product, type PutProduct } from '../domain/product.js';
import type { InventoryDeps } from './ports.js';

/** Creates or replaces a product; the change of `available` is a `set` movement in the same transaction. */
export function putProduct(deps: Pick<InventoryDeps, 'store' | 'now'>, put: PutProduct): Change<Product, Product> {
  // One time for the whole change: a new product's row is made by the load.
  const now = deps.now();
  return {
    load: (reader) => deps.store.lockProductForPut(reader, put, now),
    decide: (current) => {
      const { product, stock } = decidePutProduct(current, put);
      const writes = [deps.store.saveProductDetails(product, now), ...deps.store.changeStock(stock, null, now)];
      return { effect: { writes }, result: product };
    },
  };
}
