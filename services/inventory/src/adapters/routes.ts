import { Currency, EntityId, Money, Uuid } from '@commerce/contracts';
import {
  answerIdempotent,
  HttpProblem,
  IdempotencyKeyHeaders,
  idempotencyClaimOf,
  ProblemSchema,
  type ServiceContext,
  typed,
} from '@commerce/kernel';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  listProducts,
  listStockMovements,
  putProduct,
  readProduct,
  readReservation,
  restockProduct,
} from '../application/catalogue.js';

const ProductParams = Type.Object({ productId: EntityId }, { additionalProperties: false });
const PutProductBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    unitPrice: Money,
    currency: Currency,
    stock: Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'units available for sale' }),
  },
  { additionalProperties: false },
);
const RestockBody = Type.Object(
  { quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }) },
  { additionalProperties: false },
);
const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'opaque, from nextCursor' })),
};
const ProductView = Type.Object({
  productId: Type.String(),
  name: Type.String(),
  unitPrice: Type.Integer(),
  currency: Type.String(),
  available: Type.Integer(),
  reserved: Type.Integer(),
  sold: Type.Integer(),
});

/** Opaque cursors: the last key of the previous page, base64url-encoded. */
export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify({ k: key })).toString('base64url');
}
export function decodeCursor<T extends 'string' | 'number'>(
  cursor: string | undefined,
  type: T,
): (T extends 'string' ? string : number) | undefined {
  if (cursor === undefined) return undefined;
  try {
    const k = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown }).k;
    if (typeof k === type) return k as T extends 'string' ? string : number;
  } catch {}
  throw HttpProblem.badRequest('cursor is not one this service issued', [
    { field: '/cursor', message: 'expected the nextCursor of a previous page' },
  ]);
}

export async function inventoryRoutes(fastify: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const app = typed(fastify);
  const tags = ['inventory'];

  app.put(
    '/products/:productId',
    {
      config: { auth: 'admin' },
      schema: { tags, params: ProductParams, body: PutProductBody, response: { 200: ProductView } },
    },
    async (req) => putProduct(ctx.db, ctx.now(), { productId: req.params.productId, ...req.body }),
  );

  app.get(
    '/products/:productId',
    { config: { auth: 'signed-in' }, schema: { tags, params: ProductParams, response: { 200: ProductView } } },
    async (req) => {
      const p = await readProduct(ctx.db, req.params.productId);
      if (!p) throw HttpProblem.notFound(`product ${req.params.productId} does not exist`);
      return p;
    },
  );

  app.get(
    '/products',
    {
      config: { auth: 'signed-in' },
      schema: {
        tags,
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: {
          200: Type.Object({ items: Type.Array(ProductView), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
        },
      },
    },
    async (req) => {
      const page = await listProducts(ctx.db, req.query.limit, decodeCursor(req.query.cursor, 'string'));
      return { items: page.items, nextCursor: page.last === undefined ? null : encodeCursor(page.last) };
    },
  );

  app.post(
    '/products/:productId/restock',
    {
      config: { auth: 'admin' },
      schema: {
        tags,
        description:
          'Adds stock. With an Idempotency-Key a retried call is applied once: the same key and body answer the first ' +
          'result again (Idempotent-Replayed: true), the same key with another body or product answers 422.',
        params: ProductParams,
        headers: IdempotencyKeyHeaders,
        body: RestockBody,
        response: { 200: ProductView, 404: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (req, reply) => {
      const { productId } = req.params;
      const { quantity } = req.body;
      const key = idempotencyClaimOf(req, { restock: { productId, quantity } });
      const outcome = await restockProduct(ctx.db, ctx.now(), productId, quantity, key);
      if (!outcome) throw HttpProblem.notFound(`product ${productId} does not exist`);
      return answerIdempotent(reply, outcome);
    },
  );

  app.get(
    '/admin/stock-movements',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['audit'],
        description: 'Every stock change with its cause, oldest first (audit of SPEC §9 stock conservation).',
        querystring: Type.Object(
          {
            productId: Type.Optional(EntityId),
            orderId: Type.Optional(Uuid),
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
            cursor: Paging.cursor,
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const { productId, orderId, limit, cursor } = req.query;
      const page = await listStockMovements(ctx.db, {
        productId,
        orderId,
        limit,
        after: decodeCursor(cursor, 'number'),
      });
      return { items: page.items, nextCursor: page.last === undefined ? null : encodeCursor(page.last) };
    },
  );

  app.get(
    '/admin/reservations/:orderId',
    {
      config: { auth: 'admin' },
      schema: { tags: ['audit'], params: Type.Object({ orderId: Uuid }, { additionalProperties: false }) },
    },
    async (req) => {
      const r = await readReservation(ctx.db, req.params.orderId);
      if (!r) throw HttpProblem.notFound(`inventory knows no reservation for order ${req.params.orderId}`);
      return r;
    },
  );
}
