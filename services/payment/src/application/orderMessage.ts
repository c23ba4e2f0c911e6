import { CONSUMER_QUEUES } from '@commerce/contracts';
import {
  type Change,
  type OrderMessage,
  orderMessageChange,
  type Queryable,
  rollbackMarker,
  type Write,
} from '@commerce/kernel';
import type { PaymentDecision, PaymentOrderState, PaymentReply } from '../domain/payment.js';
import type { RiskPaymentState } from '../domain/riskPayment.js';
import type { PaymentDeps } from './ports.js';

/** Consumer name in the inbox, and the queue it reads (saga-protocol.md). */
export const PAYMENT_CONSUMER = CONSUMER_QUEUES.payment;

/**
 * Payment's change for one order message: the order's payment (and `customerId`'s account, locked, for a charge),
 * the decision at now, and its effect — the balance change with its movement, the payment row, the rollback marker
 * and the answer on payment_events, all in the message's transaction. The result is the answer (if any).
 */
export function paymentAnswer(
  deps: PaymentDeps,
  message: OrderMessage,
  customerId: string | undefined,
  decide: (state: RiskPaymentState, now: Date) => PaymentDecision,
  history?: { windowMs: number },
): Change<PaymentOrderState, PaymentReply | undefined> {
  const { orderId } = message;
  return orderMessageChange({
    consumer: PAYMENT_CONSUMER,
    source: 'payment',
    message,
    now: deps.now,
    newId: deps.newId,
    load: async (reader: Queryable): Promise<RiskPaymentState> => {
      const state = await deps.store.loadOrderPayment(reader, orderId, customerId);
      // The risk rules' history, read while the customer's account is locked: concurrent orders of one customer
      // are assessed one after the other, each seeing the ones before it.
      if (!history || customerId === undefined || state.payment) return state;
      const since = new Date(deps.now().getTime() - history.windowMs);
      return { ...state, history: await deps.store.customerHistory(reader, customerId, orderId, since) };
    },
    decide: (state, now) => {
      const decision = decide(state, now);
      const writes: Write[] = [];
      if (decision.balance) writes.push(...deps.store.changeBalance(decision.balance, orderId));
      if (decision.payment) writes.push(deps.store.savePayment(orderId, decision.payment));
      if (decision.storeMarker) writes.push(rollbackMarker(orderId, message.eventId, now));
      return { writes, reply: decision.reply };
    },
  });
}
