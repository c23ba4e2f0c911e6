import { CONSUMER_QUEUES } from '@commerce/contracts';
import { type Change, type OrderMessage, orderMessageChange, type Queryable, type Write } from '@commerce/kernel';
import {
  decideReturnRestock,
  type RestockCommand,
  type RestockReply,
  type RestockState,
} from '../domain/returnRestock.js';
import type { InventoryDeps } from './ports.js';

/**
 * ORDER_RETURN_REQUESTED: put the returned units back on sale once (INVENTORY_RETURN_RESTOCKED), or refuse with a
 * reason (INVENTORY_RETURN_RESTOCK_FAILED); a duplicate request answers the same again. The stock change, its `return`
 * movements, the restock record and the answer commit with the message's inbox record.
 */
export function restockReturn(
  deps: InventoryDeps,
  message: OrderMessage,
  command: RestockCommand,
): Change<RestockState, RestockReply | undefined> {
  const { orderId } = message;
  return orderMessageChange({
    consumer: CONSUMER_QUEUES.inventory,
    source: 'inventory',
    message,
    now: deps.now,
    newId: deps.newId,
    load: (reader: Queryable) =>
      deps.store.loadReturn(
        reader,
        orderId,
        command.items.map((l) => l.productId),
      ),
    decide: (state, now) => {
      const decision = decideReturnRestock(command, state);
      const writes: Write[] = [];
      if (decision.stock.length > 0)
        writes.push(...deps.store.changeStock(decision.stock, orderId, now, command.returnId));
      if (decision.restock) writes.push(deps.store.saveReturnRestock(orderId, command.returnId, decision.restock, now));
      return { writes, reply: decision.reply };
    },
  });
}
