import type { OrderItem } from '@commerce/contracts';
import {
  allInOrder,
  claimIdempotencyKey,
  findIdempotencyKey,
  requestHashOf as hashOfRequest,
  IdempotencyKeyTaken,
} from '@commerce/kernel';
import { findOrder, type OrderView, viewOf } from '../adapters/readModel.js';
import { decideOrder } from '../domain/index.js';
import { changeOrderIn, type OrderDeps, retryOnConflict } from './orderChanges.js';

export interface PlaceOrderRequest {
  /** Who asks (token `sub`): the scope of the idempotency key. */
  principalSub: string;
  customerId: string;
  currency: string;
  items: OrderItem[];
  idempotencyKey?: string;
  traceparent?: string;
}

export type PlaceOrderResult =
  | { kind: 'created'; order: OrderView }
  | { kind: 'replayed'; order: OrderView }
  /** The key was used before with another body (HTTP 422). */
  | { kind: 'key-reused'; orderId: string };

export function requestHashOf(body: { customerId: string; currency: string; items: OrderItem[] }): string {
  return hashOfRequest({ customerId: body.customerId, currency: body.currency, items: body.items });
}

/**
 * Places an order: ORDER_CREATED + read model + saga deadline + outbox row in one transaction, with
 * the idempotency key (if any) claimed in that same transaction; on pg all of it (BEGIN to COMMIT) is one
 * round trip.
 */
export async function placeOrder(deps: OrderDeps, req: PlaceOrderRequest): Promise<PlaceOrderResult> {
  const body = { customerId: req.customerId, currency: req.currency, items: req.items };
  const hash = requestHashOf(body);
  return retryOnConflict(deps.log, 'place order', async () => {
    try {
      return await deps.db.transaction(async (tx): Promise<PlaceOrderResult> => {
        const orderId = deps.newId();
        // The key's claim, the order's writes and the COMMIT in one batch and round trip (pg); a key used before
        // fails the claim, which aborts the transaction: nothing of this order commits.
        const claim =
          req.idempotencyKey === undefined
            ? undefined
            : claimIdempotencyKey(
                tx,
                { scope: req.principalSub, key: req.idempotencyKey, requestHash: hash },
                { orderId },
                deps.now(),
              );
        const [, change] = await allInOrder([
          claim,
          changeOrderIn(
            tx,
            deps,
            orderId,
            (state, now) => decideOrder({ type: 'PlaceOrder', orderId, ...body }, state, now),
            { causationId: null, traceparent: req.traceparent, newStream: true },
          ),
        ]);
        // Answered from the state just projected: the same view a read of the row would give.
        const order = viewOf(orderId, change.state);
        if (!order) throw new Error(`order ${orderId} was not projected`);
        return { kind: 'created', order };
      });
    } catch (err) {
      if (!(err instanceof IdempotencyKeyTaken)) throw err;
      return replay(deps, req.principalSub, err.key, hash);
    }
  });
}

/** The answer to a request whose Idempotency-Key was used before (its transaction has committed). */
async function replay(deps: OrderDeps, scope: string, key: string, hash: string): Promise<PlaceOrderResult> {
  const earlier = await findIdempotencyKey(deps.db, scope, key);
  if (!earlier) throw new Error(`idempotency key ${JSON.stringify(key)} was taken but has no row`);
  const { orderId } = earlier.result as { orderId: string };
  if (earlier.requestHash !== hash) return { kind: 'key-reused', orderId };
  const order = await findOrder(deps.db, orderId);
  if (!order) throw new Error(`idempotency key points at order ${orderId}, which has no read model row`);
  return { kind: 'replayed', order };
}
