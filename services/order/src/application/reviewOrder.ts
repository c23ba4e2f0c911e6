/**
 * The risk review's use cases on the order (docs/risk.md): an admin's approve or reject of an UNDER_REVIEW order,
 * and the deadline the review puts on the order. The review timeout reuses the order's `saga` deadline row: an order
 * waits for one thing at a time (its services, or a person), so one waiting deadline is enough, and the deadline
 * poller needs nothing new — the decider reads a due `saga` deadline of an UNDER_REVIEW order as the review timeout.
 */
import type { Change } from '@commerce/kernel';
import { decideSaga, type OrderState } from '../domain/index.js';
import { changeOrder, type OrderChange } from './orderChanges.js';
import type { OrderDeps } from './ports.js';

export function reviewOrder(
  deps: OrderDeps,
  orderId: string,
  decision: 'approve' | 'reject',
  by: string,
  traceparent?: string,
): Change<OrderState, OrderChange> {
  return changeOrder(deps, orderId, (s, now) => decideSaga({ type: 'ReviewDecision', orderId, decision, by }, s, now), {
    causationId: null,
    traceparent,
  });
}
