/** Routes served by the order service's projections (adapters/projections.ts). */
import { EntityId } from '@commerce/contracts';
import { type Database, HttpProblem, mayActFor, ProblemSchema, typed } from '@commerce/kernel';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { analyticsReport } from './analyticsQueries.js';
import { customerOrderSummary } from './projections.js';

const Count = Type.Integer({ minimum: 0 });
const SummarySchema = Type.Object(
  {
    customerId: EntityId,
    orders: Type.Object({ total: Count, open: Count, completed: Count, cancelled: Count }),
    spend: Type.Array(
      Type.Object({
        currency: Type.String(),
        orders: Count,
        placed: Type.Integer({ description: 'Σ totalAmount of the orders placed, integer minor units' }),
        spent: Type.Integer({ description: 'Σ totalAmount of the COMPLETED orders, integer minor units' }),
      }),
    ),
    lastOrder: Type.Union([
      Type.Object({
        orderId: Type.String({ format: 'uuid' }),
        status: Type.String(),
        currency: Type.String(),
        totalAmount: Type.Integer(),
        createdAt: Type.String({ format: 'date-time' }),
      }),
      Type.Null(),
    ]),
  },
  { description: "a customer's order history (customer_history projection: may lag the orders by a batch)" },
);
const AnalyticsQuery = Type.Object(
  {
    period: Type.Union([Type.Literal('hour'), Type.Literal('day')], { default: 'hour' }),
    since: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

export async function registerProjectionRoutes(fastify: FastifyInstance, db: Database): Promise<void> {
  const app = typed(fastify);
  app.get(
    '/customers/:customerId/order-summary',
    {
      config: { auth: 'signed-in' },
      schema: {
        tags: ['orders'],
        operationId: 'getCustomerOrderSummary',
        summary: "A customer's order counts, spend per currency and last order (the customer or an admin)",
        params: Type.Object({ customerId: EntityId }, { additionalProperties: false }),
        response: { 200: { ...SummarySchema, title: 'CustomerOrderSummary' }, 401: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request) => {
      const { customerId } = request.params;
      // Someone else's history answers like an unknown customer's (SPEC §4: 404, not 403).
      if (!mayActFor(request.principal, customerId)) throw HttpProblem.notFound(`customer ${customerId} not found`);
      return customerOrderSummary(db, customerId);
    },
  );
  app.get(
    '/admin/analytics',
    {
      config: {
        auth: 'admin',
        openapi: {
          responses: {
            200: {
              description: 'The analytics projection read for the period',
              schema: Type.Object({}, { additionalProperties: true, title: 'SalesAnalytics' }),
            },
          },
        },
      },
      schema: {
        tags: ['admin'],
        operationId: 'getSalesAnalytics',
        summary: 'Sales analytics: orders and revenue per currency per hour or day, outcomes, latency, products',
        querystring: AnalyticsQuery,
      },
    },
    async (request) => {
      const { period, since } = request.query;
      const from = since ? new Date(since) : new Date(Date.now() - (period === 'day' ? 30 : 2) * 86_400_000);
      return analyticsReport(db, { period, since: from });
    },
  );
}
