import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Currency, EntityId, Money, Uuid } from './envelope.js';

export const OrderItem = Type.Object(
  {
    productId: EntityId,
    quantity: Type.Integer({ minimum: 1, maximum: 1000 }),
    unitPrice: Money,
  },
  { additionalProperties: false, title: 'OrderItem' },
);
export type OrderItem = Static<typeof OrderItem>;

export const InventoryFailureReason = Type.Union([
  Type.Literal('OUT_OF_STOCK'),
  Type.Literal('UNKNOWN_PRODUCT'),
  Type.Literal('PRICE_MISMATCH'),
  Type.Literal('CURRENCY_MISMATCH'),
]);
export const PaymentFailureReason = Type.Union([
  Type.Literal('INSUFFICIENT_FUNDS'),
  Type.Literal('UNKNOWN_CUSTOMER'),
  Type.Literal('CURRENCY_MISMATCH'),
  // The risk step (docs/risk.md) rejected the order: the rules' reasons travel in `riskReasons`.
  Type.Literal('RISK_REJECTED'),
]);
/** One returned line: a product of the order, how many units, and the unit price the order paid (minor units). */
export const ReturnItem = Type.Object(
  {
    productId: EntityId,
    quantity: Type.Integer({ minimum: 1, maximum: 1000 }),
    unitPrice: Money,
  },
  { additionalProperties: false, title: 'ReturnItem' },
);
export type ReturnItem = Static<typeof ReturnItem>;
const ReturnItems = Type.Array(ReturnItem, { minItems: 1, maxItems: 100 });
/** Why inventory could not restock a return: no such product any more, not sold to this order, more than sold. */
export const RestockFailureReason = Type.Union([
  Type.Literal('UNKNOWN_PRODUCT'),
  Type.Literal('NOT_SOLD'),
  Type.Literal('EXCEEDS_SOLD'),
]);
/** Why payment could not refund a return: nothing paid for the order, another currency, more than paid. */
export const PartialRefundFailureReason = Type.Union([
  Type.Literal('NOT_PAID'),
  Type.Literal('CURRENCY_MISMATCH'),
  Type.Literal('EXCEEDS_PAID'),
]);
const Reasons = Type.Array(Type.String({ maxLength: 200 }), { maxItems: 20 });
const Empty = Type.Object({}, { additionalProperties: false });
const Amount = Type.Object({ amount: Money, currency: Currency }, { additionalProperties: false });
const RiskAssessment = Type.Object(
  { score: Type.Integer({ minimum: 0 }), reasons: Reasons },
  { additionalProperties: false, title: 'RiskAssessment' },
);

/** Payload schema of every event on the wire, by exchange (SPEC §5). */
export const EVENTS = {
  ORDER_CREATED: {
    exchange: 'order_events',
    data: Type.Object(
      {
        customerId: EntityId,
        currency: Currency,
        items: Type.Array(OrderItem, { minItems: 1, maxItems: 100 }),
        totalAmount: Money,
      },
      { additionalProperties: false },
    ),
  },
  ORDER_CONFIRMED: { exchange: 'order_events', data: Empty },
  ORDER_COMPLETED: { exchange: 'order_events', data: Empty },
  ORDER_CANCELLED: {
    exchange: 'order_events',
    data: Type.Object(
      { reasons: Reasons, requiresRefund: Type.Boolean(), requiresInventoryRollback: Type.Boolean() },
      { additionalProperties: false },
    ),
  },
  ORDER_COMPENSATION_STARTED: { exchange: 'order_events', data: Empty },
  ORDER_PAYMENT_ROLLBACK_REQUESTED: { exchange: 'order_events', data: Amount },
  ORDER_INVENTORY_ROLLBACK_REQUESTED: { exchange: 'order_events', data: Empty },
  ORDER_COMPENSATED: { exchange: 'order_events', data: Empty },
  ORDER_COMPENSATION_FAILED: {
    exchange: 'order_events',
    data: Type.Object({ reasons: Reasons }, { additionalProperties: false }),
  },
  INVENTORY_RESERVED: {
    exchange: 'inventory_events',
    data: Type.Object({ items: Type.Array(OrderItem, { maxItems: 100 }) }, { additionalProperties: false }),
  },
  INVENTORY_RESERVATION_FAILED: {
    exchange: 'inventory_events',
    data: Type.Object(
      { reason: InventoryFailureReason, productIds: Type.Array(EntityId, { maxItems: 100 }) },
      { additionalProperties: false },
    ),
  },
  INVENTORY_COMMITTED: { exchange: 'inventory_events', data: Empty },
  INVENTORY_RELEASED: { exchange: 'inventory_events', data: Empty },
  PAYMENT_APPROVED: { exchange: 'payment_events', data: Amount },
  PAYMENT_DECLINED: {
    exchange: 'payment_events',
    data: Type.Object(
      {
        reason: PaymentFailureReason,
        riskReasons: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: 20 })),
      },
      { additionalProperties: false },
    ),
  },
  PAYMENT_REFUNDED: { exchange: 'payment_events', data: Amount },
  // Returns (issue 21, saga-protocol.md "Returns"): after COMPLETED, restock first, then refund.
  ORDER_RETURN_REQUESTED: {
    exchange: 'order_events',
    data: Type.Object(
      {
        returnId: Uuid,
        customerId: EntityId,
        currency: Currency,
        items: ReturnItems,
        amount: Money,
        reason: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
      },
      {
        additionalProperties: false,
        description:
          'A return of units of a COMPLETED order: restock them (inventory), then refund amount = Σ quantity × unitPrice',
      },
    ),
  },
  INVENTORY_RETURN_RESTOCKED: {
    exchange: 'inventory_events',
    data: Type.Object(
      { returnId: Uuid, items: ReturnItems },
      {
        additionalProperties: false,
        description: 'The returned units are back on sale (available + q, sold − q), once per returnId',
      },
    ),
  },
  INVENTORY_RETURN_RESTOCK_FAILED: {
    exchange: 'inventory_events',
    data: Type.Object(
      { returnId: Uuid, reason: RestockFailureReason, productIds: Type.Array(EntityId, { maxItems: 100 }) },
      {
        additionalProperties: false,
        description: 'Nothing restocked for this return: the order then fails it and no money moves',
      },
    ),
  },
  ORDER_RETURN_REFUND_REQUESTED: {
    exchange: 'order_events',
    data: Type.Object(
      { returnId: Uuid, customerId: EntityId, amount: Money, currency: Currency },
      {
        additionalProperties: false,
        description: 'Refund the paid value of a restocked return to the customer who paid',
      },
    ),
  },
  PAYMENT_PARTIALLY_REFUNDED: {
    exchange: 'payment_events',
    data: Type.Object(
      { returnId: Uuid, amount: Money, currency: Currency },
      {
        additionalProperties: false,
        description: 'The amount of the return is back on the balance, once per returnId; never more than paid',
      },
    ),
  },
  PAYMENT_PARTIAL_REFUND_FAILED: {
    exchange: 'payment_events',
    data: Type.Object(
      { returnId: Uuid, reason: PartialRefundFailureReason },
      {
        additionalProperties: false,
        description: 'Nothing refunded for this return (not paid, another currency, more than paid)',
      },
    ),
  },
  ORDER_RETURN_COMPLETED: {
    exchange: 'order_events',
    data: Type.Object(
      { returnId: Uuid, amount: Money },
      { additionalProperties: false, description: 'The return is restocked and refunded' },
    ),
  },
  ORDER_RETURN_FAILED: {
    exchange: 'order_events',
    data: Type.Object(
      { returnId: Uuid, reasons: Reasons },
      { additionalProperties: false, description: 'The return ended without its refund; reasons say why' },
    ),
  },
  // ---- risk review (docs/risk.md) ----
  /** Payment's risk step holds the order for a person: no money taken yet. */
  PAYMENT_REVIEW_REQUIRED: { exchange: 'payment_events', data: RiskAssessment },
  /** The order waits for an admin's decision until `reviewDueAt` (REVIEW_TIMEOUT_MS); inventory keeps its stock. */
  ORDER_UNDER_REVIEW: {
    exchange: 'order_events',
    data: Type.Object(
      { score: Type.Integer({ minimum: 0 }), reasons: Reasons, reviewDueAt: Type.String({ format: 'date-time' }) },
      { additionalProperties: false },
    ),
  },
  /** An admin approved the held order: payment captures it now (PAYMENT_APPROVED or PAYMENT_DECLINED). */
  ORDER_REVIEW_APPROVED: {
    exchange: 'order_events',
    data: Type.Object({ customerId: EntityId, amount: Money, currency: Currency }, { additionalProperties: false }),
  },
  /** An admin rejected the held order, or its review timed out: the ORDER_CANCELLED that follows undoes it. */
  ORDER_REVIEW_REJECTED: {
    exchange: 'order_events',
    data: Type.Object({ reasons: Reasons }, { additionalProperties: false }),
  },
} as const satisfies Record<string, { exchange: Exchange; data: TSchema }>;

export type Exchange = 'order_events' | 'inventory_events' | 'payment_events';
export const EXCHANGES: readonly Exchange[] = ['order_events', 'inventory_events', 'payment_events'];
export type EventType = keyof typeof EVENTS;
export type EventData<T extends EventType> = Static<(typeof EVENTS)[T]['data']>;
export const EVENT_TYPES = Object.keys(EVENTS) as EventType[];
export const SCHEMA_VERSION = 1;

/**
 * The platform's consuming queues (one per consuming service and event family; the saga's is partitioned into
 * `order.saga.p<i>`). Operators' tooling lists their dead-letter queues `<queue>.dlq` from here.
 */
export const CONSUMER_QUEUES = {
  inventory: 'inventory.order_events',
  payment: 'payment.order_events',
  orderSaga: 'order.saga',
} as const;

/** What each consumer queue is bound to (exchange and routing-key pattern); the services subscribe with these. */
export const CONSUMER_BINDINGS: Record<
  keyof typeof CONSUMER_QUEUES,
  readonly { exchange: Exchange; routingKey: string }[]
> = {
  inventory: [
    'order.created',
    'order.confirmed',
    'order.cancelled',
    'order.inventory.rollback.requested',
    'order.return.requested',
    'order.under.review',
  ].map((routingKey) => ({ exchange: 'order_events' as const, routingKey })),
  payment: [
    'order.created',
    'order.cancelled',
    'order.payment.rollback.requested',
    'order.return.refund.requested',
    'order.review.approved',
  ].map((routingKey) => ({
    exchange: 'order_events' as const,
    routingKey,
  })),
  orderSaga: [
    { exchange: 'inventory_events', routingKey: 'inventory.#' },
    { exchange: 'payment_events', routingKey: 'payment.#' },
  ],
};
