import { Currency, EntityId, Money, Uuid } from '@commerce/contracts';
import {
  answerIdempotent,
  HttpProblem,
  IdempotencyKeyHeaders,
  idempotencyClaimOf,
  mayActFor,
  ProblemSchema,
  type ServiceContext,
  typed,
} from '@commerce/kernel';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  listMoneyMovements,
  putAccount,
  readAccount,
  readPayment,
  TopUpRefusedError,
  topUpAccount,
} from '../application/accounts.js';

const CustomerParams = Type.Object({ customerId: EntityId }, { additionalProperties: false });
const AccountView = Type.Object({ customerId: Type.String(), balance: Type.Integer(), currency: Type.String() });
const TopUpBody = Type.Object(
  {
    amount: Type.Integer({ ...Money, minimum: 1, description: 'integer minor units added to the balance' }),
    currency: Currency,
  },
  { additionalProperties: false },
);
const PaymentView = Type.Object({
  orderId: Type.String(),
  customerId: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  status: Type.Union([Type.Literal('APPROVED'), Type.Literal('DECLINED'), Type.Literal('REFUNDED')]),
  reason: Type.Optional(Type.String()),
  refundedAmount: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

function encodeCursor(id: number): string {
  return Buffer.from(JSON.stringify({ k: id })).toString('base64url');
}
function decodeCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  try {
    const k = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown }).k;
    if (typeof k === 'number' && Number.isSafeInteger(k)) return k;
  } catch {}
  throw HttpProblem.badRequest('cursor is not one this service issued', [
    { field: '/cursor', message: 'expected the nextCursor of a previous page' },
  ]);
}

export async function paymentRoutes(fastify: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const app = typed(fastify);
  const tags = ['payment'];

  app.put(
    '/customers/:customerId',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        params: CustomerParams,
        body: Type.Object({ balance: Money, currency: Currency }, { additionalProperties: false }),
        response: { 200: AccountView },
      },
    },
    async (req) => putAccount(ctx.db, ctx.now(), { customerId: req.params.customerId, ...req.body }),
  );

  app.post(
    '/customers/:customerId/top-up',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        description:
          "Adds money to a customer's balance, in the account's currency. With an Idempotency-Key a retried call is " +
          'applied once: the same key and body answer the first result again (Idempotent-Replayed: true), the same ' +
          'key with another body or customer answers 422.',
        params: CustomerParams,
        headers: IdempotencyKeyHeaders,
        body: TopUpBody,
        response: { 200: AccountView, 404: ProblemSchema, 409: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (req, reply) => {
      const { customerId } = req.params;
      const { amount, currency } = req.body;
      const key = idempotencyClaimOf(req, { topUp: { customerId, amount, currency } });
      try {
        return answerIdempotent(reply, await topUpAccount(ctx.db, ctx.now(), { customerId, amount, currency }, key));
      } catch (err) {
        if (!(err instanceof TopUpRefusedError)) throw err;
        if (err.reason === 'UNKNOWN_CUSTOMER') throw HttpProblem.notFound(err.message);
        throw HttpProblem.conflict(err.message);
      }
    },
  );

  app.get(
    '/customers/:customerId',
    { config: { auth: 'signed-in' }, schema: { tags, params: CustomerParams, response: { 200: AccountView } } },
    async (req) => {
      const { customerId } = req.params;
      // Someone else's account answers exactly like an unknown one.
      const account = mayActFor(req.principal, customerId) ? await readAccount(ctx.db, customerId) : undefined;
      if (!account) throw HttpProblem.notFound(`customer ${customerId} not found`);
      return account;
    },
  );

  app.get(
    '/payments/:orderId',
    {
      config: { auth: 'signed-in' },
      schema: {
        tags,
        params: Type.Object({ orderId: Uuid }, { additionalProperties: false }),
        response: { 200: PaymentView },
      },
    },
    async (req) => {
      const payment = await readPayment(ctx.db, req.params.orderId);
      if (!payment || !mayActFor(req.principal, payment.customerId))
        throw HttpProblem.notFound(`payment for order ${req.params.orderId} not found`);
      return payment;
    },
  );

  app.get(
    '/admin/money-movements',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['audit'],
        description: 'Every balance change with its cause, oldest first (audit of SPEC §9 money conservation).',
        querystring: Type.Object(
          {
            customerId: Type.Optional(EntityId),
            orderId: Type.Optional(Uuid),
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const { customerId, orderId, limit, cursor } = req.query;
      const page = await listMoneyMovements(ctx.db, { customerId, orderId, limit, after: decodeCursor(cursor) });
      return { items: page.items, nextCursor: page.last === undefined ? null : encodeCursor(page.last) };
    },
  );
}
