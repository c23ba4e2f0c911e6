/**
 * The authorization matrix over the real order, inventory and payment ServiceModules on PostgreSQL: every route
 * each service registers has a rule here, and is called by all seven kinds of caller.
 * Only the HTTP side runs (no consumers): the reservation and payment the read routes need are made by feeding the
 * order's ORDER_CREATED envelope to the inventory and payment handlers directly.
 */
import { randomUUID } from 'node:crypto';
import type { Envelope } from '@commerce/contracts';
import { handleInventoryOrderEvent, inventoryDeps, inventoryService } from '@commerce/inventory';
import { InProcessBus, type ServiceModule } from '@commerce/kernel';
import { orderService } from '@commerce/order';
import { handlePaymentOrderEvent, paymentDeps, paymentService } from '@commerce/payment';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { operatorSettingsOf, registerOperatorRoutes } from '../../apps/platform/src/operator/index.js';
import { type ModuleServer, startModuleServer } from '../support/moduleServer.js';
import { describeWith } from '../support/services.js';
import { type AuthzTable, type Caller, KERNEL_ROUTE_RULES, runAuthzMatrix } from './authz-matrix.js';
import { authHeader, makeTokens, TEST_SECRET, type Tokens } from './fixtures.js';

type Running = ModuleServer;

function startService(module: ServiceModule): Promise<Running> {
  return startModuleServer(module, {
    prefix: 'authz',
    secret: TEST_SECRET,
    // The launcher adds the platform's operator routes and the console to the order service: they are in the matrix.
    beforeReady:
      module.name === 'order'
        ? async (app, ctx) => {
            const bus = new InProcessBus({ log: ctx.log });
            await registerOperatorRoutes(app, {
              bus,
              dbs: { order: ctx.db },
              log: ctx.log,
              peers: () => [],
              settings: operatorSettingsOf(ctx.settings),
            });
          }
        : undefined,
  });
}

const orderBody = {
  customerId: 'cust-a',
  currency: 'EUR',
  items: [{ productId: 'pen-1', quantity: 2, unitPrice: 150 }],
};

describeWith(['postgres'], 'authorization matrix: order, inventory and payment services', () => {
  let tokens: Tokens;
  let order: Running;
  let inventory: Running;
  let payment: Running;
  let orderOfA: string;

  async function placeOrderAsA(): Promise<string> {
    const res = await order.app.inject({
      method: 'POST',
      url: '/orders',
      headers: authHeader(tokens, 'customerA'),
      payload: orderBody,
    });
    expect(res.statusCode).toBe(202);
    return (res.json() as { orderId: string }).orderId;
  }

  beforeAll(async () => {
    tokens = await makeTokens();
    [order, inventory, payment] = await Promise.all([
      startService(orderService),
      startService(inventoryService),
      startService(paymentService),
    ]);
    const admin = authHeader(tokens, 'admin');
    const put = async (app: FastifyInstance, url: string, payload: Record<string, unknown>) => {
      const res = await app.inject({ method: 'PUT', url, headers: admin, payload });
      expect(res.statusCode, res.body).toBe(200);
    };
    await put(inventory.app, '/products/pen-1', { name: 'Pen', unitPrice: 150, currency: 'EUR', stock: 100 });
    await put(payment.app, '/customers/cust-a', { balance: 100_000, currency: 'EUR' });
    await put(payment.app, '/customers/cust-b', { balance: 100_000, currency: 'EUR' });
    orderOfA = await placeOrderAsA();
    const created: Envelope = {
      eventId: randomUUID(),
      eventType: 'ORDER_CREATED',
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      orderId: orderOfA,
      causationId: null,
      source: 'order',
      data: { ...orderBody, totalAmount: 300 },
    } as Envelope;
    await handleInventoryOrderEvent(inventoryDeps(inventory.ctx), inventory.ctx, { envelope: created });
    await handlePaymentOrderEvent(paymentDeps(payment.ctx), payment.ctx, { envelope: created });
  });
  afterAll(async () => {
    await Promise.all([order?.drop(), inventory?.drop(), payment?.drop()]);
  });

  function report(result: Awaited<ReturnType<typeof runAuthzMatrix>>) {
    expect(result.tableErrors).toEqual([]);
    expect(result.failures).toEqual([]);
    expect(result.cells.length).toBeGreaterThan(0);
  }

  it('order service', async () => {
    // Each caller that may cancel gets an order of its own to cancel; customer B aims at one of A's.
    const cancelTarget = async (caller: Caller) =>
      ['customerA', 'customerB', 'admin'].includes(caller)
        ? { url: `/orders/${await placeOrderAsA()}/cancel` }
        : { url: `/orders/${orderOfA}/cancel` };
    const table: AuthzTable = {
      ...KERNEL_ROUTE_RULES,
      'POST /orders': { auth: 'signed-in', request: { payload: orderBody }, ok: 202, expect: { customerB: 403 } },
      'GET /asyncapi.json': { auth: 'public' },
      'GET /orders': { auth: 'signed-in' },
      'GET /orders/:orderId': {
        auth: 'signed-in',
        request: () => ({ url: `/orders/${orderOfA}` }),
        expect: { customerB: 404 },
      },
      'GET /orders/:orderId/events': {
        auth: 'signed-in',
        request: () => ({ url: `/orders/${orderOfA}/events` }),
        expect: { customerB: 404 },
      },
      'POST /orders/:orderId/cancel': { auth: 'signed-in', request: cancelTarget, ok: 202, expect: { customerB: 404 } },
      // Returns (issue 21): A's order is not COMPLETED, so the owner and the admin are let in and told 409.
      'POST /orders/:orderId/returns': {
        auth: 'signed-in',
        request: () => ({
          url: `/orders/${orderOfA}/returns`,
          payload: { items: [{ productId: 'pen-1', quantity: 1 }] },
        }),
        ok: 409,
        expect: { customerB: 404 },
      },
      'GET /orders/:orderId/returns': {
        auth: 'signed-in',
        request: () => ({ url: `/orders/${orderOfA}/returns` }),
        expect: { customerB: 404 },
      },
      // No such return: 404 for everyone let in, as for someone else's order.
      'GET /orders/:orderId/returns/:returnId': {
        auth: 'signed-in',
        request: () => ({ url: `/orders/${orderOfA}/returns/${randomUUID()}` }),
        ok: 404,
      },
      // Only a COMPENSATION_FAILED order can be retried: the admin is let in and told 409.
      'POST /admin/orders/:orderId/retry-compensation': {
        auth: 'admin',
        request: () => ({ url: `/admin/orders/${orderOfA}/retry-compensation` }),
        ok: 409,
      },
      'GET /admin/orders/stats': { auth: 'admin' },
      // The risk review queue (services/order/src/adapters/reviewRoutes.ts): an order never held is 409 for the admin.
      'GET /admin/reviews': { auth: 'admin' },
      'POST /admin/reviews/:orderId/approve': {
        auth: 'admin',
        request: () => ({ url: `/admin/reviews/${orderOfA}/approve` }),
        ok: 409,
      },
      'POST /admin/reviews/:orderId/reject': {
        auth: 'admin',
        request: () => ({ url: `/admin/reviews/${orderOfA}/reject` }),
        ok: 409,
      },
      // Projections on subscriptions (services/order/src/adapters/projectionRoutes.ts).
      'GET /customers/:customerId/order-summary': {
        auth: 'signed-in',
        request: { url: '/customers/cust-a/order-summary' },
        expect: { customerB: 404 },
      },
      'GET /admin/analytics': { auth: 'admin' },
      // Platform operator routes (apps/platform/src/operator/adminRoutes.ts), served by the order service.
      'GET /admin/dead-letters': { auth: 'admin' },
      'GET /admin/dead-letters/:queue': {
        auth: 'admin',
        request: { url: '/admin/dead-letters/inventory.order_events' },
      },
      'GET /admin/dead-letters/:queue/:id': {
        auth: 'admin',
        request: { url: `/admin/dead-letters/inventory.order_events/${randomUUID()}` },
        ok: 404,
      },
      'POST /admin/dead-letters/:queue/:id/replay': {
        auth: 'admin',
        request: { url: `/admin/dead-letters/inventory.order_events/${randomUUID()}/replay` },
        ok: 404,
      },
      'DELETE /admin/dead-letters/:queue/:id': {
        auth: 'admin',
        request: { url: `/admin/dead-letters/inventory.order_events/${randomUUID()}` },
        ok: 404,
      },
      'GET /admin/outbox': { auth: 'admin' },
      'POST /admin/projections/replay': { auth: 'admin' },
      'GET /admin/projections': { auth: 'admin' },
      // Nothing is final for 10 years in a fresh database: the admin is let in, nothing moves.
      'POST /admin/archive': { auth: 'admin', request: { payload: { olderThanMs: 315_360_000_000 } } },
      // An unknown projection: the admin is let in and told 404 (no rebuild starts in the matrix).
      'POST /admin/projections/:name/rebuild': {
        auth: 'admin',
        request: { url: '/admin/projections/no_such_projection/rebuild' },
        ok: 404,
      },
      // One database in this process: the audit answers that it needs all three (after auth).
      'GET /admin/audit': { auth: 'admin', ok: 501 },
      // Webhooks (apps/platform/src/operator/webhookRoutes.ts): admin only; an unknown endpoint is a 404 after auth.
      'POST /admin/webhooks': { auth: 'admin', request: { payload: { url: 'http://127.0.0.1/' } }, ok: 400 },
      'GET /admin/webhooks': { auth: 'admin' },
      'GET /admin/webhooks/deliveries': { auth: 'admin' },
      ...Object.fromEntries(
        (
          [
            ['GET', ''],
            ['DELETE', ''],
            ['POST', '/disable'],
            ['POST', '/enable'],
            ['POST', '/rotate-secret'],
            ['POST', '/test'],
          ] as const
        ).map(([method, tail]) => [
          `${method} /admin/webhooks/:endpointId${tail}`,
          { auth: 'admin' as const, request: { url: `/admin/webhooks/${randomUUID()}${tail}` }, ok: 404 },
        ]),
      ),
      'POST /admin/webhooks/:endpointId/redeliver': {
        auth: 'admin',
        request: { url: `/admin/webhooks/${randomUUID()}/redeliver`, payload: { since: '2026-01-01T00:00:00Z' } },
        ok: 404,
      },
      'POST /admin/webhooks/deliveries/:deliveryId/redeliver': {
        auth: 'admin',
        request: { url: '/admin/webhooks/deliveries/999999/redeliver' },
        ok: 404,
      },
      // The console (apps/platform/src/operator/consoleRoutes.ts): static files are public, every data route is admin.
      'GET /console': { auth: 'public', ok: 302 },
      'GET /console/': { auth: 'public' },
      'GET /console/*': { auth: 'public', request: { url: '/console/app.js' } },
      'GET /console/vendor/uPlot.esm.js': { auth: 'public' },
      'GET /console/vendor/uPlot.min.css': { auth: 'public' },
      'GET /admin/console-config': { auth: 'admin' },
      // Server-Sent Events never end: the admitted admin is checked by test/console (it reads the stream).
      'GET /admin/feed': {
        auth: 'admin',
        callers: ['none', 'expired', 'badSignature', 'algNone', 'customerA', 'customerB'],
      },
      'GET /admin/console/orders/:orderId': {
        auth: 'admin',
        request: () => ({ url: `/admin/console/orders/${orderOfA}` }),
      },
      'GET /admin/console/customers': { auth: 'admin' },
      'GET /admin/console/partitions': { auth: 'admin' },
      'GET /admin/proxy/:service/*': { auth: 'admin', request: { url: '/admin/proxy/inventory/products' }, ok: 502 },
    };
    report(await runAuthzMatrix(order.app, table, tokens));
    // B's list holds none of A's orders.
    const list = await order.app.inject({ url: '/orders', headers: authHeader(tokens, 'customerB') });
    expect((list.json() as { items: unknown[] }).items).toEqual([]);
  });

  it('inventory service', async () => {
    const table: AuthzTable = {
      ...KERNEL_ROUTE_RULES,
      'PUT /products/:productId': {
        auth: 'admin',
        request: { url: '/products/pen-2', payload: { name: 'Pen 2', unitPrice: 200, currency: 'EUR', stock: 5 } },
      },
      'GET /products/:productId': { auth: 'signed-in', request: { url: '/products/pen-1' } },
      'GET /products': { auth: 'signed-in' },
      'POST /products/:productId/restock': {
        auth: 'admin',
        request: { url: '/products/pen-1/restock', payload: { quantity: 1 } },
      },
      'GET /admin/stock-movements': { auth: 'admin' },
      'GET /admin/reservations/:orderId': {
        auth: 'admin',
        request: () => ({ url: `/admin/reservations/${orderOfA}` }),
      },
    };
    report(await runAuthzMatrix(inventory.app, table, tokens));
  });

  it('payment service', async () => {
    const table: AuthzTable = {
      ...KERNEL_ROUTE_RULES,
      'PUT /customers/:customerId': {
        auth: 'admin',
        request: { url: '/customers/cust-c', payload: { balance: 5, currency: 'EUR' } },
      },
      'POST /customers/:customerId/top-up': {
        auth: 'admin',
        request: { url: '/customers/cust-a/top-up', payload: { amount: 1, currency: 'EUR' } },
      },
      'GET /customers/:customerId': {
        auth: 'signed-in',
        request: { url: '/customers/cust-a' },
        expect: { customerB: 404 },
      },
      'GET /payments/:orderId': {
        auth: 'signed-in',
        request: () => ({ url: `/payments/${orderOfA}` }),
        expect: { customerB: 404 },
      },
      'GET /admin/money-movements': { auth: 'admin' },
    };
    report(await runAuthzMatrix(payment.app, table, tokens));
  });
});
