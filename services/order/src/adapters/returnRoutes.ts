/** Returns of a COMPLETED order (issue 21): POST /orders/{id}/returns, GET /orders/{id}/returns[/{returnId}]. */
import { EntityId, ReturnItem, Uuid } from '@commerce/contracts';
import {
  answerCommitted,
  commitChange,
  type Database,
  HttpProblem,
  IdempotencyKeyHeaders,
  idempotencyClaimOf,
  ProblemSchema,
  typed,
} from '@commerce/kernel';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { OrderView } from '../application/orderView.js';
import type { OrderDeps } from '../application/ports.js';
import { type ReturnRequestAnswer, requestReturn } from '../application/returns.js';
import {
  MAX_ITEMS,
  OrderNotReturnableError,
  type OrderReturn,
  RETURN_STATUSES,
  ReturnExceedsRemainingError,
} from '../domain/index.js';
import { domainProblem, traceparentOf, visibleOrder } from './routes.js';
import { findOrderReturns } from './store.js';

const Quantity = Type.Object(
  { productId: EntityId, quantity: Type.Integer({ minimum: 1, maximum: 1000 }) },
  { additionalProperties: false, title: 'ReturnLine' },
);
const ReturnBody = Type.Object(
  {
    items: Type.Array(Quantity, { minItems: 1, maxItems: MAX_ITEMS, description: 'one line per product of the order' }),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  {
    additionalProperties: false,
    title: 'RequestReturnRequest',
    examples: [{ items: [{ productId: 'sku-1', quantity: 1 }], reason: 'too small' }],
  },
);
export const ReturnSchema = Type.Object(
  {
    returnId: Uuid,
    orderId: Uuid,
    status: Type.Union(
      RETURN_STATUSES.map((s) => Type.Literal(s)),
      { title: 'ReturnStatus' },
    ),
    currency: Type.String(),
    items: Type.Array(ReturnItem, { description: 'the returned units, at the unit price the order paid' }),
    amount: Type.Integer({ description: 'Σ quantity × unitPrice: what the refund gives back, integer minor units' }),
    reason: Type.Union([Type.String(), Type.Null()]),
    restocked: Type.Union([Type.Boolean(), Type.Null()], { description: "inventory's answer (null: not yet)" }),
    refunded: Type.Union([Type.Boolean(), Type.Null()], { description: "payment's answer (null: not yet)" }),
    reasons: Type.Array(Type.String(), { description: 'why a FAILED return failed' }),
    requestedAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { title: 'OrderReturn', description: 'a return of a COMPLETED order' },
);
const ReturnList = Type.Object({ items: Type.Array(ReturnSchema) }, { title: 'OrderReturnList' });
const OrderIdParams = Type.Object({ orderId: Uuid });
const ReturnParams = Type.Object({ orderId: Uuid, returnId: Uuid });
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ProblemSchema]));

type ReturnView = Static<typeof ReturnSchema>;

const iso = (v: string) => new Date(v).toISOString();
function returnView(order: Pick<OrderView, 'orderId' | 'currency'>, r: OrderReturn): ReturnView {
  return {
    returnId: r.returnId,
    orderId: order.orderId,
    status: r.status,
    currency: order.currency,
    items: r.items,
    amount: r.amount,
    reason: r.reason,
    restocked: r.restocked,
    refunded: r.refunded,
    reasons: r.reasons,
    requestedAt: iso(r.requestedAt),
    updatedAt: iso(r.updatedAt),
  };
}

function returnProblem(err: unknown): never {
  if (err instanceof ReturnExceedsRemainingError)
    throw new HttpProblem(409, 'Conflict', err.message, undefined, undefined, { returnable: err.returnable });
  if (err instanceof OrderNotReturnableError) throw HttpProblem.conflict(err.message);
  return domainProblem(err);
}

/** Several requests on one order at once each decide on the stream they read: the losers decide again. */
const RETURN_COMMIT_ATTEMPTS = 20;

export async function registerReturnRoutes(fastify: FastifyInstance, deps: OrderDeps, db: Database): Promise<void> {
  const app = typed(fastify);
  const tags = ['orders'];

  app.post(
    '/orders/:orderId/returns',
    {
      config: { auth: 'signed-in', openapi: { headers: { 202: ['Location'] } } },
      schema: {
        operationId: 'requestReturn',
        tags,
        summary: 'Return units of a COMPLETED order: they are restocked, then their paid value is refunded',
        description:
          'Answers 202 with the return (status REQUESTED) and its Location. Several returns per order are allowed, up ' +
          'to the units bought; asking back more than can still be returned answers 409 whose problem lists ' +
          '`returnable: [{productId, quantity}]`, what can still be returned. An order ' +
          'that is not COMPLETED answers 409. With an Idempotency-Key, a retry with the same body answers the same ' +
          'return again (never a second one) with `Idempotent-Replayed: true`; the same key with another body answers 422.',
        params: OrderIdParams,
        body: ReturnBody,
        headers: IdempotencyKeyHeaders,
        response: { 202: ReturnSchema, ...errors(400, 401, 404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const { orderId } = request.params;
      const order = await visibleOrder(db, request, orderId);
      const items = request.body.items;
      const reason = request.body.reason ?? null;
      const returnId = deps.newId();
      const out = await commitChange(
        db,
        requestReturn(deps, {
          orderId,
          returnId,
          items,
          reason,
          traceparent: traceparentOf(request),
          idempotencyKey: idempotencyClaimOf(request, { return: { orderId, items, reason } }),
        }),
        { attempts: RETURN_COMMIT_ATTEMPTS },
      ).catch(returnProblem);
      const made = await answerCommitted(reply, out, {
        applied: (change) => change.state.returns.find((r) => r.returnId === returnId),
        // A retry answered from the key's first request: the return it made, as the read model has it now.
        replayed: async (stored) =>
          (await findOrderReturns(db, orderId))?.find((r) => r.returnId === (stored as ReturnRequestAnswer).returnId),
      });
      if (!made) throw new Error(`the return asked for on order ${orderId} is not recorded`);
      return reply
        .code(202)
        .header('location', `/orders/${orderId}/returns/${made.returnId}`)
        .send(returnView(order, made));
    },
  );

  app.get(
    '/orders/:orderId/returns',
    {
      config: { auth: 'signed-in' },
      schema: {
        operationId: 'listReturns',
        tags,
        summary: "The order's returns, oldest first",
        params: OrderIdParams,
        response: { 200: ReturnList, ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const order = await visibleOrder(db, request, request.params.orderId);
      const returns = (await findOrderReturns(db, order.orderId)) ?? [];
      return { items: returns.map((r) => returnView(order, r)) };
    },
  );

  app.get(
    '/orders/:orderId/returns/:returnId',
    {
      config: { auth: 'signed-in' },
      schema: {
        operationId: 'getReturn',
        tags,
        summary: 'One return of an order',
        params: ReturnParams,
        response: { 200: ReturnSchema, ...errors(400, 401, 404) },
      },
    },
    async (request) => {
      const { orderId, returnId } = request.params;
      const order = await visibleOrder(db, request, orderId);
      const found = (await findOrderReturns(db, orderId))?.find((r) => r.returnId === returnId);
      if (!found) throw HttpProblem.notFound(`return ${returnId} of order ${orderId} not found`);
      return returnView(order, found);
    },
  );
}
