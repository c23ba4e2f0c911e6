import { CONSUMER_QUEUES } from '@commerce/contracts';
import { type Change, type OrderMessage, orderMessageChange, type Queryable, type Write } from '@commerce/kernel';
import {
  decidePartialRefund,
  type PartialRefundCommand,
  type PartialRefundReply,
  type PartialRefundState,
} from '../domain/partialRefund.js';
import type { PaymentDeps } from './ports.js';

/**
 * ORDER_RETURN_REFUND_REQUESTED: give back the returned units' paid value once (PAYMENT_PARTIALLY_REFUNDED), or refuse
 * with a reason (PAYMENT_PARTIAL_REFUND_FAILED); a duplicate request answers the same again. The balance change, its
 * `return_refund` movement, the payment row, the refund record and the answer commit with the inbox record.
 */
export function refundReturn(
  deps: PaymentDeps,
  message: OrderMessage,
  command: PartialRefundCommand,
): Change<PartialRefundState, PartialRefundReply | undefined> {
  const { orderId } = message;
  return orderMessageChange({
    consumer: CONSUMER_QUEUES.payment,
    source: 'payment',
    message,
    now: deps.now,
    newId: deps.newId,
    load: (reader: Queryable) => deps.store.loadReturnRefunds(reader, orderId),
    decide: (state, now) => {
      const decision = decidePartialRefund(command, state, now);
      const writes: Write[] = [];
      if (decision.balance) writes.push(...deps.store.changeBalance(decision.balance, orderId, command.returnId));
      if (decision.payment) writes.push(deps.store.savePayment(orderId, decision.payment));
      if (decision.refund) writes.push(deps.store.saveReturnRefund(orderId, command.returnId, decision.refund, now));
      return { writes, reply: decision.reply };
    },
  });
}
