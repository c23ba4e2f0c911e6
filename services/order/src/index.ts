import {
  PgLeaseOwnership,
  type RunningParts,
  type ServiceContext,
  type ServiceModule,
  StaticOwnership,
} from '@commerce/kernel';
import { registerOrderRoutes } from './adapters/http.js';
import { ORDER_MIGRATIONS } from './adapters/migrations.js';
import type { OrderDeps } from './application/orderChanges.js';
import { sagaHandler, startDeadlinePoller } from './application/orderSaga.js';

export * from './adapters/http.js';
export * from './adapters/migrations.js';
export * from './adapters/readModel.js';
export * from './application/orderChanges.js';
export * from './application/orderSaga.js';
export * from './application/placeOrder.js';
export * from './application/replayProjections.js';
export * from './domain/index.js';

export const SAGA_QUEUE = 'order.saga';

export function orderDeps(ctx: ServiceContext): OrderDeps {
  return {
    db: ctx.db,
    log: ctx.log,
    now: () => ctx.now(),
    newId: () => ctx.newId(),
    sagaTimeoutMs: ctx.settings.sagaTimeoutMs,
    // COMPENSATION_TIMEOUT_MS (default 3 × SAGA_TIMEOUT_MS, saga-protocol.md).
    compensationTimeoutMs: ctx.settings.compensationTimeoutMs,
  };
}

/** How often due deadlines are looked for: a tenth of the saga timeout, between 50 ms and 1 s. */
export function deadlinePollIntervalMs(sagaTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(sagaTimeoutMs / 10)));
}

export const orderService: ServiceModule = {
  name: 'order',
  migrations: ORDER_MIGRATIONS,
  async routes(app, ctx) {
    await registerOrderRoutes(app, orderDeps(ctx));
  },
  async start(ctx): Promise<RunningParts> {
    const deps = orderDeps(ctx);
    const count = ctx.settings.orderPartitions;
    const ownership =
      ctx.db.kind === 'pglite'
        ? new StaticOwnership(count)
        : new PgLeaseOwnership({ db: ctx.db, instanceId: ctx.instanceId, count, log: ctx.log });
    const subscription = await ctx.bus.subscribe({
      queue: SAGA_QUEUE,
      bindings: [
        { exchange: 'inventory_events', routingKey: 'inventory.#' },
        { exchange: 'payment_events', routingKey: 'payment.#' },
      ],
      handler: sagaHandler(deps),
      maxAttempts: ctx.settings.maxDeliveryAttempts,
      partitions: { count, ownership },
    });
    const poller = startDeadlinePoller(deps, deadlinePollIntervalMs(ctx.settings.sagaTimeoutMs));
    return {
      async stop() {
        await poller.stop();
        await subscription.close();
      },
    };
  },
};
