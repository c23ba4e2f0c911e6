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
  ProblemSchema,
  pageAnswer,
  typed,
} from '@commerce/kernel';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { InventoryDeps } from '../application/ports.js';
import { putProduct } from '../application/putProduct.js';
import { restockProduct } from '../application/restockProduct.js';
import { listProducts, listStockMovements, readProduct, readReservation } from './store.js';

const ProductParams = Type.Object({ productId: EntityId }, { additionalProperties: false });
const PutProductBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    unitPrice: Money,
    currency: Currency,
    stock: Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'units available for sale' }),
  },
  {
    additionalProperties: false,
    title: 'PutProductRequest',
    examples: [{ name: 'Blue mug', unitPrice: 1500, currency: 'EUR', stock: 100 }],
  },
);
const RestockBody = Type.Object(
  { quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }) },
  { additionalProperties: false, title: 'RestockRequest', examples: [{ quantity: 10 }] },
);
const Paging = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'opaque, from nextCursor' })),
};
const ProductView = Type.Object(
  {
    productId: Type.String(),
    name: Type.String(),
    unitPrice: Type.Integer(),
    currency: Type.String(),
    available: Type.Integer(),
    reserved: Type.Integer(),
    sold: Type.Integer(),
  },
  {
    title: 'Product',
    examples: [
      { productId: 'sku-1', name: 'Blue mug', unitPrice: 1500, currency: 'EUR', available: 98, reserved: 2, sold: 0 },
    ],
  },
);
const ProductPage = Type.Object(
  { items: Type.Array(ProductView), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { title: 'ProductPage' },
);
const StockMovement = Type.Object(
  {
    id: Type.Integer(),
    productId: Type.String(),
    orderId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    kind: Type.String(),
    deltaAvailable: Type.Integer(),
    deltaReserved: Type.Integer(),
    deltaSold: Type.Integer(),
    at: Type.String({ format: 'date-time' }),
  },
  { title: 'StockMovement' },
);
const MovementPage = Type.Object(
  { items: Type.Array(StockMovement), nextCursor: Type.Union([Type.String(), Type.Null()]) },
  { title: 'StockMovementPage' },
);
const Reservation = Type.Object(
  {
    orderId: Type.String({ format: 'uuid' }),
    status: Type.String(),
    lines: Type.Array(Type.Object({}, { additionalProperties: true })),
    expiresAt: Type.String({ format: 'date-time' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    rollbackMarker: Type.Boolean(),
  },
  { title: 'Reservation' },
);

export async function registerInventoryRoutes(
  fastify: FastifyInstance,
  deps: InventoryDeps,
  db: Database,
): Promise<void> {
  const app = typed(fastify);
  const tags = ['inventory'];

  app.put(
    '/products/:productId',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'putProduct',
        summary: 'Create or replace a product (its price and stock)',
        tags,
        params: ProductParams,
        body: PutProductBody,
        response: { 200: ProductView },
      },
    },
    async (req) => {
      const out = await commitChange(db, putProduct(deps, { productId: req.params.productId, ...req.body }));
      if (out.kind !== 'applied') throw new Error(`a product's PUT has no key or inbox record to repeat (${out.kind})`);
      return out.result;
    },
  );

  app.get(
    '/products/:productId',
    {
      config: { auth: 'signed-in', openapi: { problems: [404] } },
      schema: {
        operationId: 'getProduct',
        summary: 'A product with its stock',
        tags,
        params: ProductParams,
        response: { 200: ProductView },
      },
    },
    async (req) => {
      const p = await readProduct(db, req.params.productId);
      if (!p) throw HttpProblem.notFound(`product ${req.params.productId} does not exist`);
      return p;
    },
  );

  app.get(
    '/products',
    {
      config: { auth: 'signed-in' },
      schema: {
        operationId: 'listProducts',
        summary: 'Products, by id',
        tags,
        querystring: Type.Object(Paging, { additionalProperties: false }),
        response: { 200: ProductPage },
      },
    },
    async (req) => {
      const page = await listProducts(db, req.query.limit, decodeCursor(req.query.cursor, cursorOf.string));
      return pageAnswer(page);
    },
  );

  app.post(
    '/products/:productId/restock',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'restockProduct',
        summary: 'Add stock to a product',
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
      const out = await commitChange(db, restockProduct(deps, { productId, quantity }, key));
      return answerCommitted(reply, out, {
        applied: (product) => {
          if (!product) throw HttpProblem.notFound(`product ${productId} does not exist`);
          return product;
        },
        // A retry answered from the key's first request (the header says so).
        replayed: (stored) => stored as Static<typeof ProductView>,
      });
    },
  );

  app.get(
    '/admin/stock-movements',
    {
      config: { auth: 'admin', openapi: { responses: { 200: { description: 'A page', schema: MovementPage } } } },
      schema: {
        operationId: 'listStockMovements',
        summary: 'Stock movements, oldest first',
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
      const page = await listStockMovements(db, {
        productId,
        orderId,
        limit,
        after: decodeCursor(cursor, cursorOf.integer),
      });
      return pageAnswer(page);
    },
  );

  app.get(
    '/admin/reservations/:orderId',
    {
      config: {
        auth: 'admin',
        openapi: {
          responses: { 200: { description: "An order's reservation", schema: Reservation } },
          problems: [404],
        },
      },
      schema: {
        operationId: 'getReservation',
        summary: "Inventory's reservation of an order",
        tags: ['audit'],
        params: Type.Object({ orderId: Uuid }, { additionalProperties: false }),
      },
    },
    async (req) => {
      const r = await readReservation(db, req.params.orderId);
      if (!r) throw HttpProblem.notFound(`inventory knows no reservation for order ${req.params.orderId}`);
      return r;
    },
  );
}
