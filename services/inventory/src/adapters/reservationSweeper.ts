/** Releases expired reservations: a timer, several sweepers (instances) at once, each reservation once. */
import { commitChange, type Database, type Logger } from '@commerce/kernel';
import type { InventoryDeps } from '../application/ports.js';
import { sweepExpiredReservations } from '../application/sweepExpiredReservations.js';

/** Sweeps until no more are due, `batchSize` reservations per transaction; returns how many it released. */
export async function releaseExpiredReservations(db: Database, deps: InventoryDeps, batchSize = 100): Promise<number> {
  let total = 0;
  for (;;) {
    const out = await commitChange(db, sweepExpiredReservations(deps, batchSize));
    if (out.kind !== 'applied') return total;
    total += out.result.released;
    // A full batch means more may be due; a batch that released nothing stops the loop (no spinning on busy rows).
    if (!out.result.full || out.result.released === 0) return total;
  }
}

/** How often the sweeper looks for expired reservations: a quarter of the TTL, between 250 ms and 10 s. */
export function sweepIntervalMs(reservationTtlMs: number): number {
  return Math.max(250, Math.min(10_000, Math.floor(reservationTtlMs / 4)));
}

export interface ReservationSweeper {
  stop(): Promise<void>;
}

export function startReservationSweeper(
  db: Database,
  deps: InventoryDeps,
  log: Logger,
  intervalMs: number,
): ReservationSweeper {
  let sweeping: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = releaseExpiredReservations(db, deps)
      .then((n) => {
        if (n > 0) log.info({ released: n }, 'released expired reservations');
      })
      .catch((err) => log.warn({ err: (err as Error).message }, 'reservation sweep failed; retrying next tick'))
      .finally(() => {
        sweeping = undefined;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await sweeping;
    },
  };
}
