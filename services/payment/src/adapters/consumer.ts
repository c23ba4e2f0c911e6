import type { RunningParts, ServiceContext } from '@commerce/kernel';
import { handlePaymentOrderEvent, PAYMENT_CONSUMER } from '../application/chargePayment.js';

/** The order events payment reacts to (saga-protocol.md). */
export const PAYMENT_BINDINGS = ['order.created', 'order.cancelled', 'order.payment.rollback.requested'].map(
  (routingKey) => ({ exchange: 'order_events', routingKey }),
);

export async function startPayment(ctx: ServiceContext): Promise<RunningParts> {
  const subscription = await ctx.bus.subscribe({
    queue: PAYMENT_CONSUMER,
    bindings: PAYMENT_BINDINGS,
    maxAttempts: ctx.settings.maxDeliveryAttempts,
    handler: async (delivery) => {
      await handlePaymentOrderEvent(ctx, delivery);
    },
  });
  return { stop: () => subscription.close() };
}
