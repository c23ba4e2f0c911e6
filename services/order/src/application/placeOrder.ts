import type { OrderItem } from '@commerce/contracts';
import { type Change, requestHashOf as hashOfRequest } from '@commerce/kernel';
import { decideOrder, initialState } from '../domain/index.js';
import { changeOrder } from './orderChanges.js';
import { type OrderView, viewOf } from './orderView.js';
import type { OrderDeps } from './ports.js';

export interface PlaceOrderRequest {
  /** Who asks (token `sub`): the scope of the idempotency key. */
  principalSub: string;
  customerId: string;
  currency: string;
  items: OrderItem[];
  idempotencyKey?: string;
  traceparent?: string;
}

/** What a retried request with the same Idempotency-Key gets back: the order it placed. */
export interface PlacedOrderAnswer {
  orderId: string;
}

export function requestHashOf(body: { customerId: string; currency: string; items: OrderItem[] }): string {
  return hashOfRequest({ customerId: body.customerId, currency: body.currency, items: body.items });
}

/**
 * Places an order: ORDER_CREATED, its read-model row, the saga deadline and the outbox message, with the
 * Idempotency-Key (if any) claimed in the same transaction. A retry of the key answers the first order.
 */
export function placeOrder(deps: OrderDeps, req: PlaceOrderRequest): Change<undefined, OrderView> {
  const body = { customerId: req.customerId, currency: req.currency, items: req.items };
  return {
    decide: () => {
      const orderId = deps.newId();
      const change = changeOrder(
        deps,
        orderId,
        (state, now) => decideOrder({ type: 'PlaceOrder', orderId, ...body }, state, now),
        { causationId: null, traceparent: req.traceparent, newStream: true },
      ).decide(initialState());
      const order = viewOf(orderId, change.result.state);
      if (!order) throw new Error(`order ${orderId} has no view after ORDER_CREATED`);
      const answer: PlacedOrderAnswer = { orderId };
      return {
        result: order,
        effect: {
          ...change.effect,
          idempotencyKey:
            req.idempotencyKey === undefined
              ? undefined
              : {
                  claim: { scope: req.principalSub, key: req.idempotencyKey, requestHash: requestHashOf(body) },
                  answer,
                  at: deps.now(),
                },
        },
      };
    },
  };
}
