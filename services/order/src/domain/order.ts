import { CURRENCIES, type EventData, type EventType, MAX_AMOUNT, type OrderItem } from '@commerce/contracts';
import { InvalidOrderError, OrderAlreadyExistsError, type OrderFieldError } from './errors.js';
import { evolveReturns, type OrderReturn } from './returnState.js';
import { evolveReview, type ReviewState } from './review.js';

export type OrderStatus =
  | 'PENDING'
  | 'CONFIRMED'
  | 'COMPLETED'
  | 'CANCELLED'
  | 'COMPENSATION_PENDING'
  | 'COMPENSATED'
  | 'COMPENSATION_FAILED'
  | 'UNDER_REVIEW';
export const ORDER_STATUSES: readonly OrderStatus[] = [
  'PENDING',
  'CONFIRMED',
  'COMPLETED',
  'CANCELLED',
  'COMPENSATION_PENDING',
  'COMPENSATED',
  'COMPENSATION_FAILED',
  'UNDER_REVIEW',
];
export type InventorySideStatus = 'PENDING' | 'RESERVED' | 'FAILED' | 'COMMITTED' | 'RELEASED';
export type PaymentSideStatus = 'PENDING' | 'APPROVED' | 'DECLINED' | 'REFUNDED';
/** Undo of one side: not asked for, asked for and not yet done, done (acknowledged, or nothing to undo). */
export type UndoStatus = 'NOT_REQUESTED' | 'REQUESTED' | 'DONE';

/** Everything in an order's stream: its own ORDER_* events and the results it recorded. */
export type OrderStreamEvent = { [K in EventType]: { type: K; data: EventData<K>; occurredAt: string } }[EventType];
export type OrderEventOf<K extends EventType> = Extract<OrderStreamEvent, { type: K }>;

export interface OrderState {
  customerId: string;
  currency: string;
  items: OrderItem[];
  totalAmount: number;
  status: OrderStatus | null;
  /** First answer of each side (the one that counts; contradictions are not recorded). */
  inventoryAnswer: 'RESERVED' | 'FAILED' | null;
  paymentAnswer: 'APPROVED' | 'DECLINED' | null;
  inventoryCommitted: boolean;
  inventoryUndo: UndoStatus;
  paymentUndo: UndoStatus;
  reasons: string[];
  /** Returns of a COMPLETED order (returnState.ts), oldest first. */
  returns: OrderReturn[];
  /** The risk review, when payment's risk step asked for one (review.ts). */
  review: ReviewState | null;
  version: number;
  createdAt: string | null;
  updatedAt: string | null;
}

export const FINAL_STATUSES: ReadonlySet<OrderStatus> = new Set([
  'COMPLETED',
  'CANCELLED',
  'COMPENSATED',
  'COMPENSATION_FAILED',
]);

export function initialState(): OrderState {
  return {
    customerId: '',
    currency: '',
    items: [],
    totalAmount: 0,
    status: null,
    inventoryAnswer: null,
    paymentAnswer: null,
    inventoryCommitted: false,
    inventoryUndo: 'NOT_REQUESTED',
    paymentUndo: 'NOT_REQUESTED',
    reasons: [],
    returns: [],
    review: null,
    version: 0,
    createdAt: null,
    updatedAt: null,
  };
}

/** What the API shows of each side. */
export function inventoryStatusOf(s: OrderState): InventorySideStatus {
  if (s.inventoryAnswer === 'FAILED') return 'FAILED';
  if (s.inventoryUndo === 'DONE') return 'RELEASED';
  if (s.inventoryCommitted) return 'COMMITTED';
  return s.inventoryAnswer ?? 'PENDING';
}

export function paymentStatusOf(s: OrderState): PaymentSideStatus {
  if (s.paymentAnswer === 'DECLINED') return 'DECLINED';
  if (s.paymentUndo === 'DONE') return 'REFUNDED';
  return s.paymentAnswer ?? 'PENDING';
}

function addReasons(reasons: string[], more: readonly string[]): string[] {
  const out = [...reasons];
  for (const r of more) if (!out.includes(r)) out.push(r);
  return out;
}

export function inventoryFailureReason(data: EventData<'INVENTORY_RESERVATION_FAILED'>): string {
  return `INVENTORY_${data.reason}: ${data.productIds.join(', ')}`.slice(0, 200);
}
export function paymentFailureReason(data: EventData<'PAYMENT_DECLINED'>): string {
  return `PAYMENT_${data.reason}`;
}

/** The fold: no I/O, no clock. Every event of the stream, in order. */
export function evolve(state: OrderState, event: OrderStreamEvent): OrderState {
  const s: OrderState = { ...state, version: state.version + 1, updatedAt: event.occurredAt };
  switch (event.type) {
    case 'ORDER_CREATED':
      return {
        ...s,
        customerId: event.data.customerId,
        currency: event.data.currency,
        items: event.data.items,
        totalAmount: event.data.totalAmount,
        status: 'PENDING',
        createdAt: event.occurredAt,
      };
    case 'ORDER_CONFIRMED':
      return { ...s, status: 'CONFIRMED' };
    case 'ORDER_COMPLETED':
      return { ...s, status: 'COMPLETED' };
    case 'ORDER_CANCELLED':
      return { ...s, status: 'CANCELLED', reasons: addReasons(s.reasons, event.data.reasons) };
    case 'ORDER_COMPENSATION_STARTED':
      return { ...s, status: 'COMPENSATION_PENDING' };
    case 'ORDER_PAYMENT_ROLLBACK_REQUESTED':
      return { ...s, paymentUndo: s.paymentAnswer === 'DECLINED' ? 'DONE' : 'REQUESTED' };
    case 'ORDER_INVENTORY_ROLLBACK_REQUESTED':
      return { ...s, inventoryUndo: s.inventoryAnswer === 'FAILED' ? 'DONE' : 'REQUESTED' };
    case 'ORDER_COMPENSATED':
      return { ...s, status: 'COMPENSATED' };
    case 'ORDER_COMPENSATION_FAILED':
      return { ...s, status: 'COMPENSATION_FAILED', reasons: addReasons(s.reasons, event.data.reasons) };
    case 'INVENTORY_RESERVED':
      return { ...s, inventoryAnswer: s.inventoryAnswer ?? 'RESERVED' };
    case 'INVENTORY_RESERVATION_FAILED':
      return {
        ...s,
        inventoryAnswer: s.inventoryAnswer ?? 'FAILED',
        // Nothing was reserved: an undo requested before this late failure is already done.
        inventoryUndo: s.inventoryUndo === 'REQUESTED' ? 'DONE' : s.inventoryUndo,
        reasons: addReasons(s.reasons, [inventoryFailureReason(event.data)]),
      };
    case 'INVENTORY_COMMITTED':
      return { ...s, inventoryCommitted: true };
    case 'INVENTORY_RELEASED':
      // Recorded only as the acknowledgement of a requested release, or when inventory released a
      // reservation on its own (expired before the confirmation): either way inventory holds nothing.
      return { ...s, inventoryUndo: 'DONE' };
    case 'PAYMENT_APPROVED':
      return { ...s, paymentAnswer: s.paymentAnswer ?? 'APPROVED' };
    case 'PAYMENT_DECLINED':
      return {
        ...s,
        paymentAnswer: s.paymentAnswer ?? 'DECLINED',
        paymentUndo: s.paymentUndo === 'REQUESTED' ? 'DONE' : s.paymentUndo,
        reasons: addReasons(s.reasons, [paymentFailureReason(event.data), ...(event.data.riskReasons ?? [])]),
      };
    case 'PAYMENT_REFUNDED':
      return { ...s, paymentUndo: s.paymentUndo === 'REQUESTED' ? 'DONE' : s.paymentUndo };
    case 'ORDER_RETURN_REQUESTED':
    case 'INVENTORY_RETURN_RESTOCKED':
    case 'INVENTORY_RETURN_RESTOCK_FAILED':
    case 'ORDER_RETURN_REFUND_REQUESTED':
    case 'PAYMENT_PARTIALLY_REFUNDED':
    case 'PAYMENT_PARTIAL_REFUND_FAILED':
    case 'ORDER_RETURN_COMPLETED':
    case 'ORDER_RETURN_FAILED':
      // Returns never change the order's status: COMPLETED stays final (SPEC §6); returnState.ts keeps the rest.
      return { ...s, returns: evolveReturns(s.returns, event) };
    case 'PAYMENT_REVIEW_REQUIRED':
    case 'ORDER_UNDER_REVIEW':
    case 'ORDER_REVIEW_APPROVED':
    case 'ORDER_REVIEW_REJECTED':
      return evolveReview(s, event);
  }
}

export function fold(events: readonly OrderStreamEvent[], from: OrderState = initialState()): OrderState {
  return events.reduce(evolve, from);
}

export interface PlaceOrder {
  type: 'PlaceOrder';
  orderId: string;
  customerId: string;
  currency: string;
  items: readonly OrderItem[];
}

export const MAX_ITEMS = 100;
export const MAX_QUANTITY = 1000;
const ENTITY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Σ quantity × unitPrice in minor units; undefined when it would exceed MAX_AMOUNT. */
export function totalAmountOf(items: readonly OrderItem[]): number | undefined {
  let total = 0;
  for (const item of items) {
    // Both factors are bounded (≤ 1000, ≤ 10^12) and checked below, so every step stays an exact safe integer.
    total += item.quantity * item.unitPrice;
    if (!Number.isSafeInteger(total) || total > MAX_AMOUNT) return undefined;
  }
  return total;
}

/** Every rule of an order body, each broken rule naming its field. The HTTP schema checks most first. */
export function orderRuleErrors(cmd: Omit<PlaceOrder, 'type' | 'orderId'>): OrderFieldError[] {
  const errors: OrderFieldError[] = [];
  if (!ENTITY_ID.test(cmd.customerId))
    errors.push({ field: '/customerId', message: 'must be 1–64 characters of [A-Za-z0-9._-]' });
  if (!(CURRENCIES as readonly string[]).includes(cmd.currency))
    errors.push({ field: '/currency', message: `must be one of ${CURRENCIES.join(', ')}` });
  if (cmd.items.length === 0) errors.push({ field: '/items', message: 'must contain at least 1 item' });
  if (cmd.items.length > MAX_ITEMS)
    errors.push({ field: '/items', message: `must contain at most ${MAX_ITEMS} items` });
  const seen = new Set<string>();
  cmd.items.forEach((item, i) => {
    if (!ENTITY_ID.test(item.productId))
      errors.push({ field: `/items/${i}/productId`, message: 'must be 1–64 characters of [A-Za-z0-9._-]' });
    else if (seen.has(item.productId))
      errors.push({
        field: `/items/${i}/productId`,
        message: `duplicate product ${item.productId}: one line per product`,
      });
    seen.add(item.productId);
    if (!Number.isInteger(item.quantity) || item.quantity < 1 || item.quantity > MAX_QUANTITY)
      errors.push({ field: `/items/${i}/quantity`, message: `must be an integer from 1 to ${MAX_QUANTITY}` });
    if (!Number.isInteger(item.unitPrice) || item.unitPrice < 0 || item.unitPrice > MAX_AMOUNT)
      errors.push({
        field: `/items/${i}/unitPrice`,
        message: `must be an integer from 0 to ${MAX_AMOUNT} (minor units)`,
      });
  });
  if (errors.length === 0 && totalAmountOf(cmd.items) === undefined)
    errors.push({ field: '/items', message: `total amount exceeds ${MAX_AMOUNT} minor units` });
  return errors;
}

/** The Order decider: placing an order. `now` is an ISO timestamp given by the caller. */
export function decideOrder(cmd: PlaceOrder, state: OrderState, now: string): OrderStreamEvent[] {
  if (state.status !== null) throw new OrderAlreadyExistsError(cmd.orderId);
  const errors = orderRuleErrors(cmd);
  if (errors.length > 0) throw new InvalidOrderError(errors);
  const items = cmd.items.map((i) => ({ productId: i.productId, quantity: i.quantity, unitPrice: i.unitPrice }));
  return [
    {
      type: 'ORDER_CREATED',
      occurredAt: now,
      data: {
        customerId: cmd.customerId,
        currency: cmd.currency as EventData<'ORDER_CREATED'>['currency'],
        items,
        totalAmount: totalAmountOf(items) as number,
      },
    },
  ];
}
