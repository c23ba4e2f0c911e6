import type { Envelope } from '@commerce/contracts';
import { allInOrder, currentTraceparent, type Delivery } from '@commerce/kernel';
import { claimDueDeadline, clearDeadline } from '../adapters/sagaDeadlines.js';
import {
  decideSaga,
  type OrderState,
  type ResultReceived,
  resultIgnoredBecause,
  SAGA_RESULT_TYPES,
  type SagaResultType,
} from '../domain/index.js';
import {
  type Cause,
  changeOrder,
  changeOrderIn,
  type OrderChange,
  type OrderDeps,
  SAGA_CONSUMER,
} from './orderChanges.js';

function isSagaResult(t: string): t is SagaResultType {
  return (SAGA_RESULT_TYPES as readonly string[]).includes(t);
}

/**
 * The saga's message handler: one inventory/payment result → record it, decide, append, publish, all
 * in one transaction with the inbox row. Duplicates are no-ops; contradictions are logged, not recorded.
 */
export async function handleSagaResult(
  deps: OrderDeps,
  envelope: Envelope,
  traceparent?: string,
): Promise<OrderChange | undefined> {
  if (!isSagaResult(envelope.eventType)) {
    deps.log.debug({ eventType: envelope.eventType }, 'order saga: not a result it reacts to');
    return undefined;
  }
  const command = {
    type: 'ResultReceived',
    orderId: envelope.orderId,
    eventType: envelope.eventType,
    data: envelope.data,
  } as ResultReceived;
  const cause: Cause = {
    causationId: envelope.eventId,
    traceparent,
    result: { eventId: envelope.eventId, eventType: envelope.eventType, source: envelope.source },
    inbox: { consumer: SAGA_CONSUMER, messageId: envelope.eventId },
  };
  let ignored: string | undefined;
  const change = await changeOrder(
    deps,
    envelope.orderId,
    (state: OrderState, now) => {
      ignored = resultIgnoredBecause(state, command.eventType);
      return decideSaga(command, state, now);
    },
    cause,
  );
  if (!change.duplicate && ignored && ignored !== 'duplicate')
    deps.log.warn(
      { orderId: envelope.orderId, eventType: envelope.eventType, eventId: envelope.eventId, ignored },
      `order saga: ${ignored} result ignored (the first answer of each side counts)`,
    );
  return change;
}

export function sagaHandler(deps: OrderDeps) {
  return async (delivery: Delivery): Promise<void> => {
    // The consumer's span (child of the message's trace) when the bus opened one.
    await handleSagaResult(deps, delivery.envelope, currentTraceparent() ?? delivery.traceparent);
  };
}

export function cancelOrder(
  deps: OrderDeps,
  orderId: string,
  by: 'customer' | 'admin',
  traceparent?: string,
): Promise<OrderChange> {
  return changeOrder(deps, orderId, (s, now) => decideSaga({ type: 'CustomerCancel', orderId, by }, s, now), {
    causationId: null,
    traceparent,
  });
}

export function retryCompensation(deps: OrderDeps, orderId: string, traceparent?: string): Promise<OrderChange> {
  return changeOrder(deps, orderId, (s, now) => decideSaga({ type: 'RetryCompensation', orderId }, s, now), {
    causationId: null,
    traceparent,
  });
}

/**
 * Fires due deadlines, one per transaction: claim (SKIP LOCKED) + decide + append + delete the
 * deadline commit together, so that a deadline fires once however many pollers run, and survives
 * restarts. Returns how many fired.
 */
export async function fireDueDeadlines(deps: OrderDeps, max = 100): Promise<number> {
  let fired = 0;
  for (; fired < max; fired++) {
    const done = await deps.db.transaction(async (tx) => {
      const due = await claimDueDeadline(tx, deps.now());
      if (!due) return false;
      const type = due.kind === 'saga' ? 'SagaTimeout' : 'CompensationTimeout';
      // Fired (or no longer needed): either way it must not fire again. Deleted first, so that a deadline the
      // change sets anew stays; in the same round trip as the change's reads.
      await allInOrder([
        clearDeadline(tx, due.orderId, due.kind),
        changeOrderIn(tx, deps, due.orderId, (s, now) => decideSaga({ type, orderId: due.orderId }, s, now), {
          causationId: null,
        }),
      ]);
      return true;
    });
    if (!done) break;
  }
  return fired;
}

export interface DeadlinePoller {
  stop(): Promise<void>;
}

/** Polls the deadlines table; several pollers (instances) may run at once. */
export function startDeadlinePoller(deps: OrderDeps, intervalMs: number): DeadlinePoller {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      await fireDueDeadlines(deps);
    } catch (err) {
      // A concurrent append (ConcurrencyError) or a lost connection: the deadline is still there next time.
      deps.log.warn({ err: (err as Error).message }, 'order saga: firing deadlines failed; retrying at the next poll');
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
