/** Fires the saga's due deadlines: a poll loop, several pollers (instances) at once, each deadline once. */
import { commitChange, type Database, type Logger } from '@commerce/kernel';
import { fireDueDeadline } from '../application/orderSaga.js';
import type { OrderDeps } from '../application/ports.js';

/** Fires due deadlines, one per transaction, up to `max`; returns how many fired. */
export async function fireDueDeadlines(db: Database, deps: OrderDeps, max = 100): Promise<number> {
  let fired = 0;
  for (; fired < max; fired++) {
    const out = await commitChange(db, fireDueDeadline(deps));
    if (out.kind !== 'applied' || !out.result) break;
  }
  return fired;
}

/** How often due deadlines are looked for: a tenth of the saga timeout, between 50 ms and 1 s. */
export function deadlinePollIntervalMs(sagaTimeoutMs: number): number {
  return Math.min(1000, Math.max(50, Math.floor(sagaTimeoutMs / 10)));
}

export interface DeadlinePoller {
  stop(): Promise<void>;
}

export function startDeadlinePoller(db: Database, deps: OrderDeps, log: Logger, intervalMs: number): DeadlinePoller {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      await fireDueDeadlines(db, deps);
    } catch (err) {
      // A lost connection, say: the deadline is still there next time.
      log.warn({ err: (err as Error).message }, 'order saga: firing deadlines failed; retrying at the next poll');
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, intervalMs);
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
