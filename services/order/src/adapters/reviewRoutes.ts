/**
 * The risk review's admin routes (docs/risk.md): the queue of orders UNDER_REVIEW with their score, reasons and
 * deadline, and an admin's approve or reject. The CLI (`commerce review`) and the console's review queue use them.
 */
import { EntityId, Uuid } from '@commerce/contracts';
import { commitChange, type Database, HttpProblem, ProblemSchema, typed } from '@commerce/kernel';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { OrderDeps } from '../application/ports.js';
import { reviewOrder } from '../application/reviewOrder.js';
import { OrderNotFoundError, OrderNotUnderReviewError } from '../domain/index.js';
import { traceparentOf } from './routes.js';
import { findOrder, listOrders, orderStore } from './store.js';

const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ProblemSchema]));

const ReviewItem = Type.Object(
  {
    orderId: Uuid,
    customerId: EntityId,
    status: Type.String({ description: 'UNDER_REVIEW while it waits; the order status after a decision' }),
    currency: Type.String(),
    totalAmount: Type.Integer({ description: 'minor units' }),
    items: Type.Array(Type.Object({ productId: Type.String(), quantity: Type.Integer(), unitPrice: Type.Integer() })),
    score: Type.Integer({ description: 'the sum of the tripped risk rules’ scores' }),
    reasons: Type.Array(Type.String(), { description: 'one reason per tripped rule' }),
    decision: Type.Union([Type.Literal('PENDING'), Type.Literal('APPROVED'), Type.Literal('REJECTED')]),
    reviewDueAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'when REVIEW_TIMEOUT_MS rejects the order',
    }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  {
    title: 'Review',
    examples: [
      {
        orderId: '0b8a4a4e-8a3e-4b8f-9a57-2f1f6f0b6c1d',
        customerId: 'alice',
        status: 'UNDER_REVIEW',
        currency: 'EUR',
        totalAmount: 250000,
        items: [{ productId: 'sku-1', quantity: 100, unitPrice: 2500 }],
        score: 60,
        reasons: ['RISK_AMOUNT: total 250000 over 100000'],
        decision: 'PENDING',
        reviewDueAt: '2026-01-06T10:00:00.000Z',
        createdAt: '2026-01-05T10:00:00.000Z',
      },
    ],
  },
);
const ReviewPage = Type.Object({ items: Type.Array(ReviewItem) }, { title: 'ReviewQueue' });
const OrderIdParams = Type.Object({ orderId: Uuid });
const ListQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 100, default: 100 }) },
  { additionalProperties: false },
);

/** One order's review as the queue shows it; undefined when it was never held. */
async function reviewOf(db: Database, orderId: string) {
  const state = await orderStore.loadOrder(db, orderId);
  if (!state.review || state.status === null) return undefined;
  return {
    orderId,
    customerId: state.customerId,
    status: state.status,
    currency: state.currency,
    totalAmount: state.totalAmount,
    items: state.items,
    score: state.review.score,
    reasons: state.review.reasons,
    decision: state.review.decision,
    reviewDueAt: state.review.dueAt,
    createdAt: state.createdAt ?? new Date(0).toISOString(),
  };
}

export async function registerReviewRoutes(fastify: FastifyInstance, deps: OrderDeps, db: Database): Promise<void> {
  const app = typed(fastify);
  const tags = ['admin'];
  app.get(
    '/admin/reviews',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listReviews',
        tags,
        summary: 'The review queue: orders UNDER_REVIEW, oldest first, with their risk score and reasons',
        querystring: ListQuery,
        response: { 200: ReviewPage, ...errors(400, 401, 403) },
      },
    },
    async (request) => {
      const page = await listOrders(db, { status: 'UNDER_REVIEW', limit: request.query.limit });
      const items = [];
      for (const o of [...page.items].reverse()) {
        const r = await reviewOf(db, o.orderId);
        if (r?.status === 'UNDER_REVIEW') items.push(r);
      }
      return { items };
    },
  );
  for (const decision of ['approve', 'reject'] as const) {
    app.post(
      `/admin/reviews/:orderId/${decision}`,
      {
        config: { auth: 'admin' },
        schema: {
          operationId: decision === 'approve' ? 'approveReview' : 'rejectReview',
          tags,
          summary:
            decision === 'approve'
              ? 'Approve an order UNDER_REVIEW: payment captures it and the saga goes on'
              : 'Reject an order UNDER_REVIEW: it is cancelled with the reasons, its stock released',
          params: OrderIdParams,
          response: { 200: ReviewItem, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const { orderId } = request.params;
        if (!(await findOrder(db, orderId))) throw HttpProblem.notFound(`order ${orderId} not found`);
        const by = request.principal?.sub ?? 'admin';
        await commitChange(db, reviewOrder(deps, orderId, decision, by, traceparentOf(request))).catch((err) => {
          if (err instanceof OrderNotUnderReviewError) throw HttpProblem.conflict(err.message);
          if (err instanceof OrderNotFoundError) throw HttpProblem.notFound(`order ${orderId} not found`);
          throw err;
        });
        const r = await reviewOf(db, orderId);
        if (!r) throw HttpProblem.notFound(`order ${orderId} was never held for review`);
        return r;
      },
    );
  }
}
