import { createHash } from 'node:crypto';
import type { OrderItem } from '@commerce/contracts';
import { allInOrder } from '@commerce/kernel';
import { claimIdempotencyKey, findIdempotencyKey, IdempotencyKeyTaken } from '../adapters/idempotencyKeys.js';
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

/** Canonical JSON (sorted keys) so that the same body always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export function requestHashOf(body: { customerId: string; currency: string; items: OrderItem[] }): string {
  return createHash('sha256')
    .update(canonical({ customerId: body.customerId, currency: body.currency, items: body.items }))
    .digest('hex');
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
            : claimIdempotencyKey(tx, req.principalSub, req.idempotencyKey, hash, orderId);
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
  if (earlier.requestHash !== hash) return { kind: 'key-reused', orderId: earlier.orderId };
  const order = await findOrder(deps.db, earlier.orderId);
  if (!order) throw new Error(`idempotency key points at order ${earlier.orderId}, which has no read model row`);
  return { kind: 'replayed', order };
}
