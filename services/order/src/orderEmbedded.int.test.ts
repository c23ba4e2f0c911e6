import { randomUUID } from 'node:crypto';
import {
  createLogger,
  type Database,
  InProcessBus,
  loadSettings,
  MemoryDedupCache,
  openDatabase,
  partitionOwnershipFor,
  type ServiceContext,
} from '@commerce/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fireDueDeadlines,
  handleSagaResult,
  placeOrder,
  resultEnvelope,
  type TestDeps,
  testDeps,
} from '../test-fixtures/harness.js';
import { orderMigrations, orderService } from './index.js';

const items = [{ productId: 'sku-1', quantity: 2, unitPrice: 1500 }];

// The embedded default (`npm start` without URLs) runs the same SQL on PGlite.
describe('order service on PGlite (embedded default)', () => {
  let db: Database;
  let deps: TestDeps;
  let ctx: ServiceContext;
  beforeAll(async () => {
    const log = createLogger({ level: 'silent' });
    db = await openDatabase({ name: 'order', migrations: orderMigrations, log });
    ctx = {
      name: 'order',
      settings: loadSettings({ SAGA_TIMEOUT_MS: '200' }),
      log,
      db,
      bus: new InProcessBus({ log }),
      dedup: new MemoryDedupCache(),
      instanceId: 'embedded',
      partitionOwnership: (count) => partitionOwnershipFor(db, { instanceId: 'embedded', count, log }),
      now: () => new Date(),
      newId: () => randomUUID(),
    };
    deps = testDeps(ctx);
  });
  afterAll(async () => {
    await ctx?.bus.close();
    await db?.close();
  });
  const status = async (id: string) =>
    (await db.query<{ status: string }>('SELECT status FROM orders WHERE order_id = $1', [id])).rows[0]?.status;

  it('places (idempotently), runs the saga to COMPLETED, and times out an unanswered order', async () => {
    const req = { principalSub: 'a', customerId: 'a', currency: 'EUR', items, idempotencyKey: 'k1' };
    const first = await placeOrder(deps, req);
    const again = await placeOrder(deps, req);
    expect(first.kind).toBe('created');
    expect(again.kind).toBe('replayed');
    const o = first.kind === 'created' ? first.order.orderId : '';
    expect(again.kind === 'replayed' && again.order.orderId).toBe(o);
    expect((await placeOrder(deps, { ...req, currency: 'USD' })).kind).toBe('key-reused');

    for (const [t, data] of [
      ['INVENTORY_RESERVED', { items }],
      ['PAYMENT_APPROVED', { amount: 3000, currency: 'EUR' }],
      ['INVENTORY_COMMITTED', {}],
    ] as const)
      await handleSagaResult(deps, resultEnvelope(o, t, data));
    expect(await status(o)).toBe('COMPLETED');

    const lonely = await placeOrder(deps, { ...req, idempotencyKey: undefined });
    const l = lonely.kind === 'created' ? lonely.order.orderId : '';
    expect(await fireDueDeadlines({ ...deps, now: () => new Date(Date.now() + 60_000) })).toBe(1);
    expect(await status(l)).toBe('COMPENSATION_PENDING');
  });

  it('start() subscribes with static ownership on PGlite and stops cleanly', async () => {
    const running = await orderService.start(ctx);
    // Placed "an hour from now": the running poller (SAGA_TIMEOUT_MS 200) must not cancel it mid-test.
    const future = { ...deps, now: () => new Date(Date.now() + 3_600_000) };
    const placed = await placeOrder(future, { principalSub: 'b', customerId: 'b', currency: 'EUR', items });
    const o = placed.kind === 'created' ? placed.order.orderId : '';
    const env = resultEnvelope(o, 'PAYMENT_DECLINED', { reason: 'INSUFFICIENT_FUNDS' });
    await ctx.bus.publish([{ exchange: 'payment_events', routingKey: 'payment.declined', envelope: env }]);
    expect(await status(o)).toBe('PENDING');
    const failed = resultEnvelope(o, 'INVENTORY_RESERVATION_FAILED', { reason: 'OUT_OF_STOCK', productIds: ['p'] });
    await ctx.bus.publish([
      { exchange: 'inventory_events', routingKey: 'inventory.reservation.failed', envelope: failed },
    ]);
    expect(await status(o)).toBe('CANCELLED');
    await running.stop();
  });
});
