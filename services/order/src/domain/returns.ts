/**
 * Returns of a COMPLETED order (issue 21) as deciders: a customer's request, and the saga's reaction to inventory's
 * and payment's answers. Restock first, refund after: the refund is requested only once the units are back in stock,
 * so a return whose restock fails moves no money (saga-protocol.md "Returns"). Ids and time come in as arguments.
 */
import type { EventData, ReturnItem } from '@commerce/contracts';
import { InvalidOrderError, OrderDomainError, type OrderFieldError, OrderNotFoundError } from './errors.js';
import { evolve, MAX_ITEMS, type OrderState, type OrderStreamEvent } from './order.js';
import { claimedQuantities, type OrderReturn } from './returnState.js';

export interface RequestReturn {
  type: 'RequestReturn';
  orderId: string;
  /** Chosen by the caller (the route makes one): the decider never makes ids. */
  returnId: string;
  items: readonly { productId: string; quantity: number }[];
  reason?: string | null;
}

/** The answers of inventory and payment that the saga records for a return. */
export type ReturnResultType =
  | 'INVENTORY_RETURN_RESTOCKED'
  | 'INVENTORY_RETURN_RESTOCK_FAILED'
  | 'PAYMENT_PARTIALLY_REFUNDED'
  | 'PAYMENT_PARTIAL_REFUND_FAILED';
export const RETURN_RESULT_TYPES: readonly ReturnResultType[] = [
  'INVENTORY_RETURN_RESTOCKED',
  'INVENTORY_RETURN_RESTOCK_FAILED',
  'PAYMENT_PARTIALLY_REFUNDED',
  'PAYMENT_PARTIAL_REFUND_FAILED',
];
export const isReturnResult = (t: string): t is ReturnResultType =>
  (RETURN_RESULT_TYPES as readonly string[]).includes(t);

export type ReturnResultReceived = {
  [K in ReturnResultType]: { type: 'ReturnResultReceived'; orderId: string; eventType: K; data: EventData<K> };
}[ReturnResultType];

/** A return asked of an order that is not COMPLETED (HTTP 409). */
export class OrderNotReturnableError extends OrderDomainError {
  override readonly name = 'OrderNotReturnableError';
  readonly code = 'ORDER_NOT_RETURNABLE';
  constructor(
    readonly orderId: string,
    readonly status: string,
  ) {
    super(`order ${orderId} is ${status}: only a COMPLETED order can be returned`);
  }
}

/** More units asked back than bought and not yet returned (HTTP 409 listing what can still be returned). */
export class ReturnExceedsRemainingError extends OrderDomainError {
  override readonly name = 'ReturnExceedsRemainingError';
  readonly code = 'RETURN_EXCEEDS_REMAINING';
  constructor(
    readonly orderId: string,
    readonly returnable: { productId: string; quantity: number }[],
    readonly productIds: string[],
  ) {
    super(
      `order ${orderId}: more units of ${productIds.join(', ')} asked back than can still be returned ` +
        `(returnable: ${returnable.map((r) => `${r.productId} × ${r.quantity}`).join(', ') || 'nothing'})`,
    );
  }
}

/** What can still be returned, per line of the order: bought − held by returns (requested, completed, restocked). */
export function returnableQuantities(state: OrderState): { productId: string; quantity: number }[] {
  const claimed = claimedQuantities(state.returns);
  return state.items.map((i) => ({
    productId: i.productId,
    quantity: Math.max(0, i.quantity - (claimed.get(i.productId) ?? 0)),
  }));
}

function returnRuleErrors(cmd: RequestReturn, state: OrderState): OrderFieldError[] {
  const errors: OrderFieldError[] = [];
  if (cmd.items.length === 0) errors.push({ field: '/items', message: 'must contain at least 1 item' });
  if (cmd.items.length > MAX_ITEMS)
    errors.push({ field: '/items', message: `must contain at most ${MAX_ITEMS} items` });
  const bought = new Set(state.items.map((i) => i.productId));
  const seen = new Set<string>();
  cmd.items.forEach((item, i) => {
    if (!bought.has(item.productId))
      errors.push({ field: `/items/${i}/productId`, message: `product ${item.productId} is not in the order` });
    else if (seen.has(item.productId))
      errors.push({
        field: `/items/${i}/productId`,
        message: `duplicate product ${item.productId}: one line per product`,
      });
    seen.add(item.productId);
    if (!Number.isInteger(item.quantity) || item.quantity < 1)
      errors.push({ field: `/items/${i}/quantity`, message: 'must be an integer of at least 1' });
  });
  if (cmd.reason != null && cmd.reason.length > 200)
    errors.push({ field: '/reason', message: 'must be at most 200 characters' });
  return errors;
}

/** A customer's (or admin's) return request: ORDER_RETURN_REQUESTED with the lines at the prices the order paid. */
export function decideReturn(cmd: RequestReturn, state: OrderState, now: string): OrderStreamEvent[] {
  if (state.status === null) throw new OrderNotFoundError(cmd.orderId);
  if (state.status !== 'COMPLETED') throw new OrderNotReturnableError(cmd.orderId, state.status);
  // The same return asked again (a retried request with its id): it exists, nothing new.
  if (state.returns.some((r) => r.returnId === cmd.returnId)) return [];
  const errors = returnRuleErrors(cmd, state);
  if (errors.length > 0) throw new InvalidOrderError(errors);
  const returnable = returnableQuantities(state);
  const left = new Map(returnable.map((r) => [r.productId, r.quantity]));
  const over = cmd.items.filter((i) => i.quantity > (left.get(i.productId) ?? 0)).map((i) => i.productId);
  if (over.length > 0)
    throw new ReturnExceedsRemainingError(
      cmd.orderId,
      returnable.filter((r) => r.quantity > 0),
      over,
    );
  const price = new Map(state.items.map((i) => [i.productId, i.unitPrice]));
  const items: ReturnItem[] = cmd.items.map((i) => ({
    productId: i.productId,
    quantity: i.quantity,
    unitPrice: price.get(i.productId) as number,
  }));
  // Each line ≤ the order's line, so the sum ≤ the order's total ≤ MAX_AMOUNT: exact integers.
  const amount = items.reduce((sum, i) => sum + i.quantity * i.unitPrice, 0);
  return [
    {
      type: 'ORDER_RETURN_REQUESTED',
      occurredAt: now,
      data: {
        returnId: cmd.returnId,
        customerId: state.customerId,
        currency: state.currency as EventData<'ORDER_RETURN_REQUESTED'>['currency'],
        items,
        amount,
        reason: cmd.reason ?? null,
      },
    },
  ];
}

const returnIdOf = (cmd: ReturnResultReceived) => cmd.data.returnId;

/**
 * Why an answer about a return is not recorded, or undefined if it is new. `unknown`: no such return of this order;
 * `duplicate`: the side already gave this answer; `contradictory`: it already gave another (the first counts).
 */
export function returnResultIgnoredBecause(
  state: OrderState,
  cmd: ReturnResultReceived,
): 'unknown' | 'duplicate' | 'contradictory' | undefined {
  const r = state.returns.find((x) => x.returnId === returnIdOf(cmd));
  if (!r) return 'unknown';
  const inventory =
    cmd.eventType === 'INVENTORY_RETURN_RESTOCKED' || cmd.eventType === 'INVENTORY_RETURN_RESTOCK_FAILED';
  const answered = inventory ? r.restocked : r.refunded;
  if (answered === null) return undefined;
  const success = cmd.eventType === 'INVENTORY_RETURN_RESTOCKED' || cmd.eventType === 'PAYMENT_PARTIALLY_REFUNDED';
  return answered === success ? 'duplicate' : 'contradictory';
}

/** What a return still needs once an answer is recorded: the refund, its completion, or its failure. */
function nextStep(state: OrderState, r: OrderReturn, now: string): OrderStreamEvent[] {
  if (r.status !== 'REQUESTED') return [];
  if (r.restocked === false || r.refunded === false)
    return [{ type: 'ORDER_RETURN_FAILED', occurredAt: now, data: { returnId: r.returnId, reasons: r.reasons } }];
  if (r.restocked === true && r.refunded === true)
    return [{ type: 'ORDER_RETURN_COMPLETED', occurredAt: now, data: { returnId: r.returnId, amount: r.amount } }];
  if (r.restocked === true && r.refunded === null && !r.refundRequested)
    return [
      {
        type: 'ORDER_RETURN_REFUND_REQUESTED',
        occurredAt: now,
        data: {
          returnId: r.returnId,
          customerId: state.customerId,
          amount: r.amount,
          currency: state.currency as EventData<'ORDER_RETURN_REFUND_REQUESTED'>['currency'],
        },
      },
    ];
  return [];
}

/** The saga's reaction to an answer about a return: record it, then the return's next step. */
export function decideReturnResult(cmd: ReturnResultReceived, state: OrderState, now: string): OrderStreamEvent[] {
  if (state.status === null) throw new OrderNotFoundError(cmd.orderId);
  if (returnResultIgnoredBecause(state, cmd) !== undefined) return [];
  const recorded = { type: cmd.eventType, data: cmd.data, occurredAt: now } as OrderStreamEvent;
  const after = evolve(state, recorded);
  const r = after.returns.find((x) => x.returnId === returnIdOf(cmd)) as OrderReturn;
  return [recorded, ...nextStep(after, r, now)];
}
