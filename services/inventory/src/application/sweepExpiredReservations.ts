import { type Change, type OutgoingMessage, participantAnswer, type Write } from '@commerce/kernel';
import { decideInventory } from '../domain/reservation.js';
import { reservationWrites } from './orderMessage.js';
import type { DueReservation, InventoryDeps } from './ports.js';

export interface SweepResult {
  /** Reservations released (movement `expiry`, answer INVENTORY_RELEASED). */
  released: number;
  /** As many reservations were due as the sweep takes at once: more may be. */
  full: boolean;
}

/**
 * One sweep of reservations neither committed nor released within RESERVATION_TTL_MS, in one transaction. Safe
 * with several instances: the store claims each due reservation for one of them, and the decider checks its status
 * and expiry again.
 */
export function sweepExpiredReservations(
  deps: InventoryDeps,
  limit: number,
): Change<{ due: DueReservation[]; full: boolean }, SweepResult> {
  const now = deps.now();
  return {
    load: (reader) => deps.store.claimDueReservations(reader, now, limit),
    decide: ({ due, full }) => {
      const writes: Write[] = [];
      const outbox: OutgoingMessage[] = [];
      let released = 0;
      for (const { orderId, state } of due) {
        const decision = decideInventory({ type: 'expire' }, state, now);
        if (decision.reply) released++;
        writes.push(...reservationWrites(deps, orderId, decision, now));
        // A timer's answer: caused by no message.
        outbox.push(
          ...participantAnswer({ source: 'inventory', eventId: deps.newId(), orderId, reply: decision.reply, now }),
        );
      }
      return { effect: { writes, outbox }, result: { released, full } };
    },
  };
}
