import type { RunningParts, ServiceContext } from '@commerce/kernel';
import { handleInventoryOrderEvent, INVENTORY_CONSUMER } from '../application/reserveStock.js';
import { sweepExpiredReservations } from '../application/sweepExpiredReservations.js';

/** The order events inventory reacts to (saga-protocol.md). */
export const INVENTORY_BINDINGS = [
  'order.created',
  'order.confirmed',
  'order.cancelled',
  'order.inventory.rollback.requested',
].map((routingKey) => ({ exchange: 'order_events', routingKey }));

/** How often the sweeper looks for expired reservations: a quarter of the TTL, between 250 ms and 10 s. */
export function sweepIntervalMs(reservationTtlMs: number): number {
  return Math.max(250, Math.min(10_000, Math.floor(reservationTtlMs / 4)));
}

export async function startInventory(ctx: ServiceContext): Promise<RunningParts> {
  const subscription = await ctx.bus.subscribe({
    queue: INVENTORY_CONSUMER,
    bindings: INVENTORY_BINDINGS,
    maxAttempts: ctx.settings.maxDeliveryAttempts,
    handler: async (delivery) => {
      await handleInventoryOrderEvent(ctx, delivery);
    },
  });

  let sweeping: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = sweepExpiredReservations(ctx)
      .then((n) => {
        if (n > 0) ctx.log.info({ released: n }, 'released expired reservations');
      })
      .catch((err) => ctx.log.warn({ err: (err as Error).message }, 'reservation sweep failed; retrying next tick'))
      .finally(() => {
        sweeping = undefined;
      });
  }, sweepIntervalMs(ctx.settings.reservationTtlMs));
  timer.unref();

  return {
    async stop() {
      clearInterval(timer);
      await subscription.close();
      await sweeping;
    },
  };
}
