/** The order service's composition root: its store, routes, saga consumer and deadline poller. */
import {
  type EventSubscription,
  pickSettings,
  projectionSubscription,
  type RunningParts,
  type ServiceContext,
  type ServiceModule,
  type Settings,
} from '@commerce/kernel';
import { subscribeSaga } from './adapters/consumer.js';
import { deadlinePollIntervalMs, startDeadlinePoller } from './adapters/deadlinePoller.js';
import { orderMigrations } from './adapters/migrations.js';
import { registerProjectionRoutes } from './adapters/projectionRoutes.js';
import { ORDER_PROJECTIONS } from './adapters/projections.js';
import { registerReturnRoutes } from './adapters/returnRoutes.js';
import { registerReviewRoutes } from './adapters/reviewRoutes.js';
import { registerAsyncApiRoute, registerOrderRoutes } from './adapters/routes.js';
import { orderStore } from './adapters/store.js';
import { startWebhooks } from './adapters/webhookWorker.js';
import type { OrderDeps } from './application/ports.js';

export * from './adapters/analyticsQueries.js';
export * from './adapters/archive.js';
export * from './adapters/consumer.js';
export * from './adapters/deadlinePoller.js';
export * from './adapters/migrations.js';
export * from './adapters/projections.js';
export * from './adapters/returnRoutes.js';
export * from './adapters/reviewRoutes.js';
export * from './adapters/routes.js';
export * from './adapters/store.js';
export * from './adapters/webhookDeliveries.js';
export * from './adapters/webhookSecrets.js';
export * from './adapters/webhookStore.js';
export * from './adapters/webhookTargets.js';
export * from './adapters/webhookWorker.js';
export * from './application/eventVersions.js';
export * from './application/orderChanges.js';
export * from './application/orderSaga.js';
export * from './application/orderView.js';
export * from './application/placeOrder.js';
export * from './application/ports.js';
export * from './application/projections.js';
export * from './application/returns.js';
export * from './application/reviewOrder.js';
export * from './application/webhookSignature.js';
export * from './domain/index.js';
export * from './domain/webhooks.js';

/** The settings the order service reads; the composition root hands it these and nothing else. */
const ORDER_SETTINGS = [
  'sagaTimeoutMs',
  'compensationTimeoutMs',
  'orderPartitions',
  'maxDeliveryAttempts',
  'subscriptionLeaseMs',
  'reviewTimeoutMs',
  'webhooks',
] as const;
export type OrderSettings = Pick<Settings, (typeof ORDER_SETTINGS)[number]>;

export function orderDeps(ctx: Pick<ServiceContext<OrderSettings>, 'settings' | 'now' | 'newId'>): OrderDeps {
  return {
    store: orderStore,
    now: () => ctx.now(),
    newId: () => ctx.newId(),
    sagaTimeoutMs: ctx.settings.sagaTimeoutMs,
    // COMPENSATION_TIMEOUT_MS (default 3 × SAGA_TIMEOUT_MS, saga-protocol.md).
    compensationTimeoutMs: ctx.settings.compensationTimeoutMs,
    // REVIEW_TIMEOUT_MS (docs/risk.md).
    reviewTimeoutMs: ctx.settings.reviewTimeoutMs,
  };
}

/** How long the projections gather events after a wake-up before they read (see EventSubscription `gatherMs`). */
const PROJECTION_GATHER_MS = 100;

export const orderService: ServiceModule<OrderSettings> = {
  name: 'order',
  migrations: orderMigrations,
  settingsOf: (settings) => pickSettings(settings, ORDER_SETTINGS),
  async routes(app, ctx) {
    await registerOrderRoutes(app, orderDeps(ctx), ctx.db);
    await registerReturnRoutes(app, orderDeps(ctx), ctx.db);
    await registerReviewRoutes(app, orderDeps(ctx), ctx.db);
    registerAsyncApiRoute(app, ctx.settings.orderPartitions);
    await registerProjectionRoutes(app, ctx.db);
  },
  async start(ctx): Promise<RunningParts> {
    const deps = orderDeps(ctx);
    const count = ctx.settings.orderPartitions;
    // Leases or one owner of everything: the composition root's choice for this database.
    const ownership = ctx.partitionOwnership(count);
    const subscription = await subscribeSaga(ctx, deps, {
      partitions: count,
      ownership,
      maxAttempts: ctx.settings.maxDeliveryAttempts,
    });
    const poller = startDeadlinePoller(ctx.db, deps, ctx.log, deadlinePollIntervalMs(ctx.settings.sagaTimeoutMs));
    // The projections on subscriptions to the event store: one process of the service runs each (a lease).
    const projections: EventSubscription[] = ORDER_PROJECTIONS.filter((p) => !p.inline).map((p) =>
      projectionSubscription(p, {
        db: ctx.db,
        instanceId: ctx.instanceId,
        leaseMs: ctx.settings.subscriptionLeaseMs,
        maxAttempts: ctx.settings.maxDeliveryAttempts,
        // Read models that may lag a little: one transaction per 100 ms of events under load, not one per commit
        // (at 100 orders/s, per-commit batches cost the order database ~2 transactions per order).
        gatherMs: PROJECTION_GATHER_MS,
        log: ctx.log,
      }),
    );
    for (const s of projections) await s.start();
    const hooks = ctx.settings.webhooks;
    if (hooks.allowPrivateNetworks)
      ctx.log.warn('WEBHOOK_ALLOW_PRIVATE_NETWORKS=true: webhooks may call loopback, private and metadata addresses');
    if (hooks.secretKeySource === 'embedded-default')
      ctx.log.warn('WEBHOOK_SECRET_KEY is not set: webhook secrets are encrypted with the public embedded default key');
    const webhooks = await startWebhooks({
      db: ctx.db,
      instanceId: ctx.instanceId,
      settings: hooks,
      subscriptionLeaseMs: ctx.settings.subscriptionLeaseMs,
      maxAttempts: ctx.settings.maxDeliveryAttempts,
      log: ctx.log,
    });
    return {
      async stop() {
        await webhooks.stop();
        for (const s of projections) await s.stop();
        await poller.stop();
        await subscription.close();
      },
    };
  },
};
