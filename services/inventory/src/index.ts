/** The inventory service's composition root: its store, routes, order-message consumer and reservation sweeper. */
import {
  pickSettings,
  type RunningParts,
  type ServiceContext,
  type ServiceModule,
  type Settings,
} from '@commerce/kernel';
import { subscribeInventory } from './adapters/consumer.js';
import { inventoryMigrations } from './adapters/migrations.js';
import { startReservationSweeper, sweepIntervalMs } from './adapters/reservationSweeper.js';
import { registerInventoryRoutes } from './adapters/routes.js';
import { inventoryStore } from './adapters/store.js';
import type { InventoryDeps } from './application/ports.js';

export * from './adapters/consumer.js';
export * from './adapters/migrations.js';
export * from './adapters/reservationSweeper.js';
export * from './adapters/routes.js';
export * from './adapters/store.js';
export * from './application/commitStock.js';
export * from './application/orderMessage.js';
export * from './application/ports.js';
export * from './application/putProduct.js';
export * from './application/releaseStock.js';
export * from './application/reserveStock.js';
export * from './application/restockProduct.js';
export * from './application/restockReturn.js';
export * from './application/sweepExpiredReservations.js';
export * from './domain/product.js';
export * from './domain/reservation.js';
export * from './domain/returnRestock.js';

/** The settings the inventory service reads; the composition root hands it these and nothing else. */
const INVENTORY_SETTINGS = ['reservationTtlMs', 'maxDeliveryAttempts'] as const;
export type InventorySettings = Pick<Settings, (typeof INVENTORY_SETTINGS)[number]>;

export function inventoryDeps(
  ctx: Pick<ServiceContext<InventorySettings>, 'settings' | 'now' | 'newId'>,
): InventoryDeps {
  return {
    store: inventoryStore,
    now: () => ctx.now(),
    newId: () => ctx.newId(),
    reservationTtlMs: ctx.settings.reservationTtlMs,
  };
}

export const inventoryService: ServiceModule<InventorySettings> = {
  name: 'inventory',
  migrations: inventoryMigrations,
  settingsOf: (settings) => pickSettings(settings, INVENTORY_SETTINGS),
  async routes(app, ctx) {
    await registerInventoryRoutes(app, inventoryDeps(ctx), ctx.db);
  },
  async start(ctx): Promise<RunningParts> {
    const deps = inventoryDeps(ctx);
    const subscription = await subscribeInventory(ctx, deps, { maxAttempts: ctx.settings.maxDeliveryAttempts });
    const sweeper = startReservationSweeper(ctx.db, deps, ctx.log, sweepIntervalMs(ctx.settings.reservationTtlMs));
    return {
      async stop() {
        await sweeper.stop();
        await subscription.close();
      },
    };
  },
};
