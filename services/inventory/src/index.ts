import type { ServiceModule } from '@commerce/kernel';
import { startInventory } from './adapters/consumer.js';
import { inventoryMigrations } from './adapters/migrations.js';
import { inventoryRoutes } from './adapters/routes.js';

export const inventoryService: ServiceModule = {
  name: 'inventory',
  migrations: inventoryMigrations,
  routes: inventoryRoutes,
  start: startInventory,
};

export * from './adapters/consumer.js';
export * from './adapters/migrations.js';
export * from './application/catalogue.js';
export * from './application/reserveStock.js';
export * from './application/sweepExpiredReservations.js';
export * from './domain/reservation.js';
