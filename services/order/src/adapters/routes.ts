import { asyncApiDocument, Currency, EntityId, isUuid, OrderItem, Uuid } from '@commerce/contracts';
import {
  answerCommitted,
  type Change,
  commitChange,
  type Database,
  decodeCursor,
  encodeCursor,
  HttpProblem,
  IdempotencyKeyHeaders,
  mayActFor,
  type Principal,
  ProblemSchema,
  requestTraceparent,
  schemaVersionOf,
  typed,
} from '@commerce/kernel';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cancelOrder, retryCompensation } from '../application/orderSaga.js';
import type { OrderView } from '../application/orderView.js';
import { type PlacedOrderAnswer, placeOrder } from '../application/placeOrder.js';
import type { OrderDeps } from '../application/ports.js';
import {
  CompensationNotRetryableError,
  InvalidOrderError,
  MAX_ITEMS,
  ORDER_STATUSES,
  OrderNotCancellableError,
  OrderNotFoundError,
} from '../domain/index.js';
import { countOrdersByStatus, findOrder, listOrders, readOrderStream } from './store.js';

const Status = Type.Union(
  ORDER_STATUSES.map((s) => Type.Literal(s)),
  { description: 'order status', title: 'OrderStatus' },
);
const CreateOrderBody = Type.Object(
  {
    customerId: EntityId,
    currency: Currency,
    items: Type.Array(OrderItem, { minItems: 1, maxItems: MAX_ITEMS, description: 'one line per product' }),
  },
  {
    additionalProperties: false,
    title: 'PlaceOrderRequest',
    examples: [{ customerId: 'alice', currency: 'EUR', items: [{ productId: 'sku-1', quantity: 2, unitPrice: 1500 }] }],
  },
);
const OrderSchema = Type.Object(
  {
    orderId: Uuid,
    customerId: EntityId,
    status: Status,
    currency: Type.String(),
    items: Type.Array(OrderItem),
    totalAmount: Type.Integer({ description: 'Σ quantity × unitPrice, integer minor units' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    version: Type.Integer(),
    inventory: Type.Object({ status: Type.String() }),
    payment: Type.Object({ status: Type.String() }),
    reasons: Type.Array(Type.String()),
    returnStatus: Type.Union([Type.Literal('NONE'), Type.Literal('PARTIALLY_RETURNED'), Type.Literal('RETURNED')], {
      description: 'returns of a COMPLETED order; `status` stays COMPLETED (final)',
    }),
    returned: Type.Array(Type.Object({ productId: EntityId, quantity: Type.Integer({ minimum: 1 }) }), {
      description: 'units returned per product (completed returns)',
    }),
    refundedAmount: Type.Integer({ minimum: 0, description: 'refunded by completed returns, integer minor units' }),
  },
  {
    description: 'an order',
    title: 'Order',
    examples: [
      {
        orderId: '0b8a4a4e-8a3e-4b8f-9a57-2f1f6f0b6c1d',
        customerId: 'alice',
        status: 'PENDING',
        currency: 'EUR',
        items: [{ productId: 'sku-1', quantity: 2, unitPrice: 1500 }],
        totalAmount: 3000,
        createdAt: '2026-01-05T10:00:00.000Z',
        updatedAt: '2026-01-05T10:00:00.000Z',
        version: 1,
        inventory: { status: 'PENDING' },
        payment: { status: 'PENDING' },
        reasons: [],
        returnStatus: 'NONE',
        returned: [],
        refundedAmount: 0,
      },
    ],
  },
);
const OrderEventSchema = Type.Object(
  {
    eventId: Uuid,
    type: Type.String(),
    version: Type.Integer(),
    schemaVersion: Type.Integer({ minimum: 1, description: 'the shape of `data` (older stored events are upcast)' }),
    occurredAt: Type.String({ format: 'date-time' }),
    data: Type.Unknown(),
  },
  { title: 'OrderEvent' },
);
const OrderPage = Type.Object(
  { items: Type.Array(OrderSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { title: 'OrderPage' },
);
const OrderStats = Type.Object(
  { total: Type.Integer(), byStatus: Type.Record(Type.String(), Type.Integer()) },
  { title: 'OrderStats', examples: [{ total: 3, byStatus: { COMPLETED: 2, CANCELLED: 1 } }] },
);
const OrderIdParams = Type.Object({ orderId: Uuid });
const ListQuery = Type.Object(
  {
    customerId: Type.Optional(EntityId),
    status: Type.Optional(Status),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ProblemSchema]));

/** The caller's W3C trace context, or a new one: every message this request causes carries it. */
export function traceparentOf(request: FastifyRequest): string {
  return requestTraceparent(request.headers.traceparent);
}

/** A page's position: the last order's creation time and id (newest first). */
function orderPosition(d: unknown): { createdAt: string; orderId: string } | undefined {
  if (!Array.isArray(d) || d.length !== 2) return undefined;
  const [createdAt, orderId] = d as unknown[];
  return typeof createdAt === 'string' && !Number.isNaN(Date.parse(createdAt)) && isUuid(orderId)
    ? { createdAt, orderId }
    : undefined;
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw HttpProblem.unauthorized('a bearer token is required');
  return request.principal;
}

/** The order if the caller may see it; someone else's order answers 404 like an unknown one (SPEC §4). */
export async function visibleOrder(db: Database, request: FastifyRequest, orderId: string): Promise<OrderView> {
  const order = await findOrder(db, orderId);
  if (!order || !mayActFor(principalOf(request), order.customerId))
    throw HttpProblem.notFound(`order ${orderId} not found`);
  return order;
}

/** A domain error as its HTTP problem (400, 404, 409); anything else is thrown on (500). */
export function domainProblem(err: unknown): never {
  if (err instanceof InvalidOrderError)
    throw HttpProblem.badRequest(
      `invalid body: ${err.errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
      err.errors,
    );
  if (err instanceof OrderNotCancellableError || err instanceof CompensationNotRetryableError)
    throw HttpProblem.conflict(err.message);
  if (err instanceof OrderNotFoundError) throw HttpProblem.notFound(`order ${err.orderId} not found`);
  throw err;
}

/** SPEC §4 order service routes. */
export async function registerOrderRoutes(fastify: FastifyInstance, deps: OrderDeps, db: Database): Promise<void> {
  const app = typed(fastify);
  /** Commits a command's change; an illegal command answers its problem (400, 404, 409). */
  const run = <S, R>(change: Change<S, R>) => commitChange(db, change).catch(domainProblem);
  const tags = ['orders'];

  app.post(
    '/orders',
    {
      config: { auth: 'signed-in', openapi: { headers: { 202: ['Location'] } } },
      schema: {
        operationId: 'placeOrder',
        tags,
        summary: 'Place an order (customers for themselves, admins for anyone)',
        description:
          'With an Idempotency-Key, a retry with the same body answers the same order again (never a second one) with ' +
          'the header `Idempotent-Replayed: true`; the same key with another body answers 422. Keys are kept for ' +
          'IDEMPOTENCY_KEY_RETENTION_MS (default 24 h), then a key is new again.',
        body: CreateOrderBody,
        headers: IdempotencyKeyHeaders,
        response: { 202: OrderSchema, ...errors(400, 401, 403, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body: Static<typeof CreateOrderBody> = request.body;
      if (!mayActFor(principal, body.customerId))
        throw HttpProblem.forbidden(`a customer may place orders only for itself (${principal.sub})`);
      const result = await run(
        placeOrder(deps, {
          principalSub: principal.sub,
          customerId: body.customerId,
          currency: body.currency,
          items: body.items,
          idempotencyKey: request.headers['idempotency-key'],
          traceparent: traceparentOf(request),
        }),
      );
      const order = await answerCommitted(reply, result, {
        applied: (placed) => placed,
        // A retry answered from the key's first request (the header says so, as Stripe and the IETF draft do).
        replayed: async (stored) => {
          const { orderId } = stored as PlacedOrderAnswer;
          const first = await findOrder(db, orderId);
          if (!first) throw new Error(`Idempotency-Key points at order ${orderId}, which has no read-model row`);
          return first;
        },
      });
      return reply.code(202).header('location', `/orders/${order.orderId}`).send(order);
    },
  );

  app.get(
    '/orders/:orderId',
    {
      config: { auth: 'signed-in' },
      schema: {
        operationId: 'getOrder',
        tags,
        summary: 'The current state of an order',
        params: OrderIdParams,
        response: { 200: OrderSchema, ...errors(400, 401, 404) },
      },
    },
    async (request) => visibleOrder(db, request, request.params.orderId),
  );

  app.get(
    '/orders/:orderId/events',
    {
      config: { auth: 'signed-in' },
      schema: {
        operationId: 'listOrderEvents',
        tags,
        summary: "The order's event stream, oldest first",
        params: OrderIdParams,
        response: { 200: Type.Array(OrderEventSchema), ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      await visibleOrder(db, request, request.params.orderId);
      // Archived orders' events come from the archive (store.readOrderStream).
      const events = await readOrderStream(db, request.params.orderId);
      return events.map((e) => ({
        eventId: e.eventId,
        type: e.eventType,
        version: e.version,
        schemaVersion: schemaVersionOf(e),
        occurredAt: e.occurredAt,
        data: e.data,
      }));
    },
  );

  app.get(
    '/orders',
    {
      config: { auth: 'signed-in' },
      schema: {
        operationId: 'listOrders',
        tags,
        summary: 'Orders, newest first (customers see only their own)',
        querystring: ListQuery,
        response: { 200: OrderPage, ...errors(400, 401) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const q = request.query;
      if (principal.role !== 'admin' && q.customerId !== undefined && q.customerId !== principal.sub)
        return { items: [], nextCursor: null };
      const page = await listOrders(db, {
        customerId: principal.role === 'admin' ? q.customerId : principal.sub,
        status: q.status,
        limit: q.limit,
        after: decodeCursor(q.cursor, orderPosition),
      });
      const last = page.items.at(-1);
      return { items: page.items, nextCursor: page.more && last ? encodeCursor([last.createdAt, last.orderId]) : null };
    },
  );

  app.post(
    '/orders/:orderId/cancel',
    {
      config: { auth: 'signed-in' },
      schema: {
        operationId: 'cancelOrder',
        tags,
        summary: 'Cancel an order that is PENDING or CONFIRMED; what was done is compensated',
        params: OrderIdParams,
        response: { 202: OrderSchema, ...errors(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orderId } = request.params;
      await visibleOrder(db, request, orderId);
      const by = principalOf(request).role === 'admin' ? 'admin' : 'customer';
      await run(cancelOrder(deps, orderId, by, traceparentOf(request)));
      return reply.code(202).send(await visibleOrder(db, request, orderId));
    },
  );

  app.post(
    '/admin/orders/:orderId/retry-compensation',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'retryCompensation',
        tags: ['admin'],
        summary: 'Re-request the rollbacks not acknowledged of a COMPENSATION_FAILED order',
        params: OrderIdParams,
        response: { 202: OrderSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { orderId } = request.params;
      await visibleOrder(db, request, orderId);
      await run(retryCompensation(deps, orderId, traceparentOf(request)));
      return reply.code(202).send(await visibleOrder(db, request, orderId));
    },
  );

  app.get(
    '/admin/orders/stats',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getOrderStats',
        tags: ['admin'],
        summary: 'Number of orders per status',
        response: { 200: OrderStats, ...errors(401, 403) },
      },
    },
    async () => {
      const counts = await countOrdersByStatus(db);
      return { total: Object.values(counts).reduce((a, b) => a + b, 0), byStatus: counts };
    },
  );
}

/** The AsyncAPI 3.0 document of the platform's events (contracts asyncApiDocument), next to /openapi.json. */
export function registerAsyncApiRoute(app: FastifyInstance, orderPartitions: number): void {
  const document = asyncApiDocument({ orderPartitions });
  app.get('/asyncapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () => document);
}
