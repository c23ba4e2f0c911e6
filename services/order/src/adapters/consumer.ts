/** The saga's consumer: inventory and payment results, partitioned by order, each committed with its inbox record. */
import { CONSUMER_BINDINGS, CONSUMER_QUEUES } from '@commerce/contracts';
import {
  commitChange,
  currentTraceparent,
  type Delivery,
  type PartitionOwnership,
  type ServiceContext,
  type Subscription,
} from '@commerce/kernel';
import { handleSagaResult } from '../application/orderSaga.js';
import type { OrderDeps } from '../application/ports.js';
import { handleReturnResult } from '../application/returns.js';

export const SAGA_QUEUE = CONSUMER_QUEUES.orderSaga;

type ConsumerContext = Pick<ServiceContext, 'db' | 'dedup' | 'log'>;

export function sagaHandler(deps: OrderDeps, ctx: ConsumerContext) {
  return async (delivery: Delivery): Promise<void> => {
    const { envelope } = delivery;
    // The consumer's span (child of the message's trace) when the bus opened one.
    const traceparent = currentTraceparent() ?? delivery.traceparent;
    const change = handleSagaResult(deps, envelope, traceparent) ?? handleReturnResult(deps, envelope, traceparent);
    if (!change) {
      ctx.log.debug({ eventType: envelope.eventType }, 'order saga: not a result it reacts to');
      return;
    }
    const out = await commitChange(ctx.db, change, { dedup: ctx.dedup, maybeHandled: delivery.redelivered === true });
    const ignored = out.kind === 'applied' ? out.result.ignored : undefined;
    if (ignored && ignored !== 'duplicate')
      ctx.log.warn(
        { orderId: envelope.orderId, eventType: envelope.eventType, eventId: envelope.eventId, ignored },
        `order saga: ${ignored} result ignored (the first answer of each side counts)`,
      );
  };
}

/** Subscribes the saga to the results, one partition per order, handled by whoever owns the partition. */
export function subscribeSaga(
  ctx: ConsumerContext & Pick<ServiceContext, 'bus'>,
  deps: OrderDeps,
  o: { partitions: number; ownership: PartitionOwnership; maxAttempts: number },
): Promise<Subscription> {
  return ctx.bus.subscribe({
    queue: SAGA_QUEUE,
    bindings: [...CONSUMER_BINDINGS.orderSaga],
    handler: sagaHandler(deps, ctx),
    maxAttempts: o.maxAttempts,
    partitions: { count: o.partitions, ownership: o.ownership },
  });
}
