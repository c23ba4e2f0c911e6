import { type Envelope, EVENTS, routingKeyOf, SCHEMA_VERSION } from '@commerce/contracts';
import {
  allInOrder,
  enqueueOutbox,
  handleOnce,
  type Queryable,
  type ServiceContext,
  type Transaction,
} from '@commerce/kernel';
import {
  type Account,
  type BalanceChange,
  decidePayment,
  type Payment,
  type PaymentCommand,
  type PaymentReply,
} from '../domain/payment.js';

/** Consumer name in the inbox, and the queue it reads (saga-protocol.md). */
export const PAYMENT_CONSUMER = 'payment.order_events';

export type PaymentDeps = Pick<ServiceContext, 'db' | 'dedup' | 'now' | 'newId'>;

/** The order message as the decider's command; undefined when payment has nothing to do with it. */
export function paymentCommandOf(e: Envelope): PaymentCommand | undefined {
  const data = e.data as Record<string, unknown>;
  switch (e.eventType) {
    case 'ORDER_CREATED':
      return {
        type: 'charge',
        customerId: String(data.customerId),
        amount: Number(data.totalAmount),
        currency: String(data.currency),
      };
    case 'ORDER_PAYMENT_ROLLBACK_REQUESTED':
      return { type: 'refund', currency: String(data.currency) };
    case 'ORDER_CANCELLED':
      return data.requiresRefund === true ? { type: 'refund' } : undefined;
    default:
      return undefined;
  }
}

/**
 * Handles one order message exactly once: inbox row, balance change, money movement, payment row and the answer's
 * outbox row commit together. Returns the answer (undefined: a duplicate, or nothing to answer).
 */
export async function handlePaymentOrderEvent(
  deps: PaymentDeps,
  delivery: { envelope: Envelope; traceparent?: string },
): Promise<PaymentReply | undefined> {
  const e = delivery.envelope;
  const command = paymentCommandOf(e);
  if (!command) return undefined;
  const out = await handleOnce(
    { db: deps.db, dedup: deps.dedup, consumer: PAYMENT_CONSUMER, messageId: e.eventId },
    (tx) => applyToPayment(tx, deps, e.orderId, command, { eventId: e.eventId, traceparent: delivery.traceparent }),
  );
  return out.result;
}

interface PaymentRow {
  customer_id: string;
  amount: number;
  refunded_amount: number;
  currency: string;
  status: Payment['status'];
  reason: string | null;
}

/**
 * Lock order: the order's advisory lock (messages of one order one after the other), its payment row, then the
 * customer's account row (FOR UPDATE: concurrent orders of one customer deduct one after the other, none lost).
 */
async function applyToPayment(
  tx: Transaction,
  deps: Pick<PaymentDeps, 'now' | 'newId'>,
  orderId: string,
  command: PaymentCommand,
  cause: { eventId: string; traceparent?: string },
): Promise<PaymentReply | undefined> {
  // Issued together (one batch and round trip on pg), run by the server in this order. A charge names its
  // customer, so the account is locked at once, even when the payment turns out to exist (a late duplicate: rare).
  const charging = command.type === 'charge';
  const [, found, marker, chargedAccount] = await allInOrder([
    tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`payment:order:${orderId}`]),
    tx.query<PaymentRow>(
      'SELECT customer_id, amount, refunded_amount, currency, status, reason FROM payments WHERE order_id = $1 FOR UPDATE',
      [orderId],
    ),
    tx.query('SELECT 1 FROM payment_rollback_markers WHERE order_id = $1', [orderId]),
    charging ? lockAccount(tx, command.customerId) : null,
  ] as const);
  const row = found.rows[0];
  const payment: Payment | null = row
    ? {
        customerId: row.customer_id,
        amount: Number(row.amount),
        refundedAmount: Number(row.refunded_amount),
        currency: row.currency,
        status: row.status,
        reason: row.reason,
      }
    : null;
  const account = charging
    ? !payment && marker.rowCount === 0
      ? chargedAccount
      : null
    : command.type === 'refund' && payment
      ? await lockAccount(tx, payment.customerId)
      : null;
  const decision = decidePayment(command, { account, payment, rollbackMarker: marker.rowCount > 0 });
  const now = deps.now();
  // The writes depend only on the decision: one batch and round trip, with the COMMIT.
  const writes: Promise<unknown>[] = [];
  if (decision.balance) writes.push(applyBalanceChange(tx, decision.balance, orderId, now));
  if (decision.payment) {
    const p = decision.payment;
    writes.push(
      tx.query(
        `INSERT INTO payments (order_id, customer_id, amount, refunded_amount, currency, status, reason, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
       ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, refunded_amount = EXCLUDED.refunded_amount,
         reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at`,
        [orderId, p.customerId, p.amount, p.refundedAmount, p.currency, p.status, p.reason, now],
      ),
    );
  }
  if (decision.storeMarker)
    writes.push(
      tx.query(
        `INSERT INTO payment_rollback_markers (order_id, cause_event_id, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (order_id) DO NOTHING`,
        [orderId, cause.eventId, now],
      ),
    );
  if (decision.reply) {
    const envelope: Envelope = {
      eventId: deps.newId(),
      eventType: decision.reply.eventType,
      schemaVersion: SCHEMA_VERSION,
      occurredAt: now.toISOString(),
      orderId,
      causationId: cause.eventId,
      source: 'payment',
      data: decision.reply.data,
    };
    writes.push(
      enqueueOutbox(tx, [
        {
          exchange: EVENTS[decision.reply.eventType].exchange,
          routingKey: routingKeyOf(decision.reply.eventType),
          envelope,
          traceparent: cause.traceparent,
        },
      ]),
    );
  }
  // With the COMMIT: one round trip. A refused balance change throws there and aborts the transaction.
  await tx.final(writes);
  return decision.reply;
}

export async function lockAccount(tx: Queryable, customerId: string): Promise<Account | null> {
  const res = await tx.query<{ customer_id: string; balance: number; currency: string }>(
    'SELECT customer_id, balance, currency FROM accounts WHERE customer_id = $1 FOR UPDATE',
    [customerId],
  );
  const r = res.rows[0];
  return r ? { customerId: r.customer_id, balance: Number(r.balance), currency: r.currency } : null;
}

/**
 * Writes a balance change and its money movement. The CHECK (balance >= 0) stands behind the row lock, so that
 * even a bug upstream cannot overdraw: the statement fails instead.
 */
export async function applyBalanceChange(
  tx: Queryable,
  change: BalanceChange,
  orderId: string | null,
  at: Date,
): Promise<number> {
  // The change and its movement in one statement. A refused change is an error, never "no row", because the
  // caller may have sent its COMMIT behind it (Transaction.final): an overdraw violates accounts' CHECK
  // (balance >= 0), and a missing account leaves the movement's NOT NULL currency empty.
  const res = await tx.query<{ balance: number }>(
    `WITH changed AS (
       UPDATE accounts SET balance = balance + $2, version = version + 1, updated_at = $3
        WHERE customer_id = $1
        RETURNING balance, currency)
     INSERT INTO money_movements (customer_id, order_id, kind, delta, currency, balance_after, at)
     SELECT $1, $4, $5, $2, changed.currency, changed.balance, $3 FROM (SELECT 1) AS one LEFT JOIN changed ON true
     RETURNING balance_after AS balance`,
    [change.customerId, change.delta, at, orderId, change.kind],
  );
  const row = res.rows[0];
  if (!row) throw new Error(`balance change ${change.kind} ${change.delta} refused for customer ${change.customerId}`);
  return Number(row.balance);
}
