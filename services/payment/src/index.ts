import type { ServiceModule } from '@commerce/kernel';
import { startPayment } from './adapters/consumer.js';
import { paymentMigrations } from './adapters/migrations.js';
import { paymentRoutes } from './adapters/routes.js';

export const paymentService: ServiceModule = {
  name: 'payment',
  migrations: paymentMigrations,
  routes: paymentRoutes,
  start: startPayment,
};

export * from './adapters/consumer.js';
export * from './adapters/migrations.js';
export * from './application/accounts.js';
export * from './application/chargePayment.js';
export * from './domain/payment.js';
