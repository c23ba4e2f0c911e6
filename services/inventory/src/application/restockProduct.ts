import type { Change, IdempotencyKeyClaim } from '@commerce/kernel';
import { decideRestock, type Product } from '../domain/product.js';
import type { InventoryDeps } from './ports.js';

/**
 * Adds stock (movement `restock`); the result is undefined when the product does not exist, and then nothing is
 * applied, not even the key, so a retry is refused the same way. With an Idempotency-Key it is applied once: the key
 * commits with the stock, and a retry of the same request is answered the product as this restock left it.
 */
export function restockProduct(
  deps: Pick<InventoryDeps, 'store' | 'now'>,
  restock: { productId: string; quantity: number },
  key?: IdempotencyKeyClaim,
): Change<Product | undefined, Product | undefined> {
  return {
    load: (reader) => deps.store.lockProduct(reader, restock.productId),
    decide: (current) => {
      const now = deps.now();
      const decision = decideRestock(current, restock.quantity);
      if (!decision) return { effect: {}, result: undefined };
      return {
        effect: {
          idempotencyKey: key ? { claim: key, answer: decision.product, at: now } : undefined,
          writes: deps.store.changeStock(decision.stock, null, now),
        },
        result: decision.product,
      };
    },
  };
}
