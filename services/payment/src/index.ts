/** The payment service's composition root: its store, routes and order-message consumer. */
import {
  pickSettings,
  type RunningParts,
  type ServiceContext,
  type ServiceModule,
  type Settings,
} from '@commerce/kernel';
import { subscribePayment } from './adapters/consumer.js';
import { paymentMigrations } from './adapters/migrations.js';
import { registerPaymentRoutes } from './adapters/routes.js';
import { paymentStore } from './adapters/store.js';
import type { PaymentDeps } from './application/ports.js';

export * from './adapters/consumer.js';
export * from './adapters/migrations.js';
export * from './adapters/routes.js';
export * from './adapters/store.js';
export * from './application/chargePayment.js';
export * from './application/orderMessage.js';
export * from './application/ports.js';
export * from './application/putAccount.js';
export * from './application/refundPayment.js';
export * from './application/refundReturn.js';
export * from './application/topUpAccount.js';
export * from './domain/partialRefund.js';
export * from './domain/payment.js';
export * from './domain/risk.js';
export * from './domain/riskPayment.js';

/** The settings the payment service reads; the composition root hands it these and nothing else. */
const PAYMENT_SETTINGS = ['maxDeliveryAttempts', 'risk'] as const;
export type PaymentSettings = Pick<Settings, (typeof PAYMENT_SETTINGS)[number]>;

export function paymentDeps(
  ctx: Pick<ServiceContext, 'now' | 'newId'> & { settings?: Partial<Pick<Settings, 'risk'>> },
): PaymentDeps {
  return { store: paymentStore, now: () => ctx.now(), newId: () => ctx.newId(), risk: ctx.settings?.risk };
}

export const paymentService: ServiceModule<PaymentSettings> = {
  name: 'payment',
  migrations: paymentMigrations,
  settingsOf: (settings) => pickSettings(settings, PAYMENT_SETTINGS),
  async routes(app, ctx) {
    await registerPaymentRoutes(app, paymentDeps(ctx), ctx.db);
  },
  async start(ctx): Promise<RunningParts> {
    const subscription = await subscribePayment(ctx, paymentDeps(ctx), {
      maxAttempts: ctx.settings.maxDeliveryAttempts,
    });
    return { stop: () => subscription.close() };
  },
};
