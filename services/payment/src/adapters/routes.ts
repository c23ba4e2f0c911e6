import { Currency, EntityId, Money, Uuid } from '@commerce/contracts';
import {
  answerCommitted,
  commitChange,
  cursorOf,
  type Database,
  decodeCursor,
  HttpProblem,
  IdempotencyKeyHeaders,
  idempotencyClaimOf,
  mayActFor,
  ProblemSchema,
  pageAnswer,
  typed,
} from '@commerce/kernel';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { PaymentDeps } from '../application/ports.js';
import { putAccount } from '../application/putAccount.js';
import { type TopUpOutcome, topUpAccount } from '../application/topUpAccount.js';
import type { Account } from '../domain/payment.js';
import { listMoneyMovements, readAccount, readPayment } from './store.js';

const CustomerParams = Type.Object({ customerId: EntityId }, { additionalProperties: false });
const AccountView = Type.Object(
  { customerId: Type.String(), balance: Type.Integer(), currency: Type.String() },
  { title: 'Account', examples: [{ customerId: 'alice', balance: 100000, currency: 'EUR' }] },
);
const PutAccountBody = Type.Object(
  { balance: Money, currency: Currency },
  { additionalProperties: false, title: 'PutAccountRequest', examples: [{ balance: 100000, currency: 'EUR' }] },
);
const MoneyMovement = Type.Object(
  {
    id: Type.Integer(),
    customerId: Type.String(),
    orderId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    kind: Type.String(),
    delta: Type.Integer(),
    currency: Type.String(),
    balanceAfter: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
  },
  { title: 'MoneyMovement' },
);
const MoneyMovementPage = Type.Object(
  { items: Type.Array(MoneyMovement), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { title: 'MoneyMovementPage' },
);
const TopUpBody = Type.Object(
  {
    amount: Type.Integer({ ...Money, minimum: 1, description: 'integer minor units added to the balance' }),
    currency: Currency,
  },
  { additionalProperties: false, title: 'TopUpRequest', examples: [{ amount: 5000, currency: 'EUR' }] },
);
const PaymentView = Type.Object(
  {
    orderId: Type.String(),
    customerId: Type.String(),
    amount: Type.Integer(),
    currency: Type.String(),
    status: Type.Union([
      Type.Literal('APPROVED'),
      Type.Literal('DECLINED'),
      Type.Literal('REFUNDED'),
      Type.Literal('HELD'),
    ]),
    reason: Type.Optional(Type.String()),
    refundedAmount: Type.Integer(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { title: 'Payment' },
);

/** The account a top-up left, or the problem of a refused one (nothing applied, no key recorded). */
function toppedUp(outcome: TopUpOutcome): Account {
  if ('applied' in outcome) return outcome.applied;
  if (outcome.refused === 'UNKNOWN_CUSTOMER') throw HttpProblem.notFound(outcome.detail);
  throw HttpProblem.conflict(outcome.detail);
}

export async function registerPaymentRoutes(fastify: FastifyInstance, deps: PaymentDeps, db: Database): Promise<void> {
  const app = typed(fastify);
  const tags = ['payment'];

  app.put(
    '/customers/:customerId',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'putAccount',
        summary: "Create or replace a customer's account (balance and currency)",
        tags,
        params: CustomerParams,
        body: PutAccountBody,
        response: { 200: AccountView },
      },
    },
    async (req) => {
      const out = await commitChange(db, putAccount(deps, { customerId: req.params.customerId, ...req.body }));
      if (out.kind !== 'applied') throw new Error(`an account PUT was answered ${out.kind}`);
      return out.result;
    },
  );

  app.post(
    '/customers/:customerId/top-up',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'topUpAccount',
        summary: "Add money to a customer's balance",
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
      const committed = await commitChange(db, topUpAccount(deps, { customerId, amount, currency }, key));
      return answerCommitted(reply, committed, {
        applied: toppedUp,
        replayed: (stored) => stored as ReturnType<typeof toppedUp>,
      });
    },
  );

  app.get(
    '/customers/:customerId',
    {
      config: { auth: 'signed-in', openapi: { problems: [404] } },
      schema: {
        operationId: 'getAccount',
        summary: "A customer's account",
        tags,
        params: CustomerParams,
        response: { 200: AccountView },
      },
    },
    async (req) => {
      const { customerId } = req.params;
      // Someone else's account answers exactly like an unknown one.
      const account = mayActFor(req.principal, customerId) ? await readAccount(db, customerId) : undefined;
      if (!account) throw HttpProblem.notFound(`customer ${customerId} not found`);
      return account;
    },
  );

  app.get(
    '/payments/:orderId',
    {
      config: { auth: 'signed-in', openapi: { problems: [404] } },
      schema: {
        operationId: 'getPayment',
        summary: 'The payment of an order',
        tags,
        params: Type.Object({ orderId: Uuid }, { additionalProperties: false }),
        response: { 200: PaymentView },
      },
    },
    async (req) => {
      const payment = await readPayment(db, req.params.orderId);
      if (!payment || !mayActFor(req.principal, payment.customerId))
        throw HttpProblem.notFound(`payment for order ${req.params.orderId} not found`);
      return payment;
    },
  );

  app.get(
    '/admin/money-movements',
    {
      config: { auth: 'admin', openapi: { responses: { 200: { description: 'A page', schema: MoneyMovementPage } } } },
      schema: {
        operationId: 'listMoneyMovements',
        summary: 'Money movements, oldest first',
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
      const page = await listMoneyMovements(db, {
        customerId,
        orderId,
        limit,
        after: decodeCursor(cursor, cursorOf.integer),
      });
      return pageAnswer(page);
    },
  );
}
