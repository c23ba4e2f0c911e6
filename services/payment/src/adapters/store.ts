/** Payment's storage on PostgreSQL and PGlite: accounts, payments and money movements (SPEC §9's records). */
import { allInOrder, lockOrderForParticipant, type Queryable, type Write } from '@commerce/kernel';
import type { PaymentStore } from '../application/ports.js';
import type { ReturnRefund } from '../domain/partialRefund.js';
import type { Account, Payment } from '../domain/payment.js';

/** The participant's name in the kernel's per-order lock. */
const PARTICIPANT = 'payment';

interface AccountRow {
  customer_id: string;
  balance: number;
  currency: string;
}

const accountOf = (r: AccountRow | undefined): Account | null =>
  r ? { customerId: r.customer_id, balance: Number(r.balance), currency: r.currency } : null;

function lockAccount(reader: Queryable, customerId: string): Promise<Account | null> {
  return reader
    .query<AccountRow>('SELECT customer_id, balance, currency FROM accounts WHERE customer_id = $1 FOR UPDATE', [
      customerId,
    ])
    .then((res) => accountOf(res.rows[0]));
}

interface PaymentRow {
  customer_id: string;
  amount: number;
  refunded_amount: number;
  currency: string;
  status: Payment['status'];
  reason: string | null;
  updated_at: Date;
}

export const paymentStore: PaymentStore = {
  async loadOrderPayment(reader, orderId, chargedCustomerId) {
    // Issued together, run in this order: the order's lock first, then its payment row and a charge's account.
    const [order, found, account] = await allInOrder([
      lockOrderForParticipant(reader, PARTICIPANT, orderId),
      reader.query<PaymentRow>(
        `SELECT customer_id, amount, refunded_amount, currency, status, reason, updated_at
           FROM payments WHERE order_id = $1 FOR UPDATE`,
        [orderId],
      ),
      chargedCustomerId === undefined ? null : lockAccount(reader, chargedCustomerId),
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
          updatedAt: new Date(row.updated_at),
        }
      : null;
    // A refund needs no account read: its guarded balance change locks the row when it writes.
    return { account, payment, rollbackMarker: order.rollbackCameFirst };
  },

  lockAccount,

  async lockAccountForPut(reader, customerId) {
    // A row lock needs a row: two first PUTs of one customer wait on this lock instead, so the second reads the
    // account the first created.
    const [, account] = await allInOrder([
      reader.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`payment:account:${customerId}`]),
      lockAccount(reader, customerId),
    ] as const);
    return account;
  },

  async loadReturnRefunds(reader, orderId) {
    const [{ payment }, refunds] = await allInOrder([
      paymentStore.loadOrderPayment(reader, orderId),
      reader.query<{
        return_id: string;
        status: ReturnRefund['status'];
        amount: number;
        currency: string;
        reason: string | null;
      }>(
        'SELECT return_id::text AS return_id, status, amount, currency, reason FROM return_refunds WHERE order_id = $1',
        [orderId],
      ),
    ] as const);
    return {
      payment,
      refunds: new Map(
        refunds.rows.map((r) => [
          r.return_id,
          {
            status: r.status,
            amount: Number(r.amount),
            currency: r.currency,
            reason: r.reason as ReturnRefund['reason'],
          },
        ]),
      ),
    };
  },

  saveReturnRefund(orderId, returnId, r, at): Write {
    return {
      sql: `INSERT INTO return_refunds (order_id, return_id, status, amount, currency, reason, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      params: [orderId, returnId, r.status, r.amount, r.currency, r.reason, at],
    };
  },

  changeBalance(change, orderId, returnId): Write[] {
    // The CHECK (balance >= 0) stands behind the guard, so that even a bug upstream cannot overdraw.
    return [
      {
        sql: `UPDATE accounts SET balance = balance + $2, version = version + 1, updated_at = $3
               WHERE customer_id = $1 AND balance + $2 >= 0 RETURNING 1`,
        params: [change.customerId, change.delta, change.at],
        refusal: 'INSUFFICIENT_FUNDS',
      },
      {
        // Behind the update in the same transaction: the balance it left.
        sql: `INSERT INTO money_movements (customer_id, order_id, kind, delta, currency, balance_after, at, return_id)
              SELECT customer_id, $2::uuid, $3, $4, currency, balance, $5, $6::uuid FROM accounts WHERE customer_id = $1`,
        params: [change.customerId, orderId, change.kind, change.delta, change.at, returnId ?? null],
      },
    ];
  },

  savePayment(orderId, p): Write {
    return {
      sql: `INSERT INTO payments (order_id, customer_id, amount, refunded_amount, currency, status, reason, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
            ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, refunded_amount = EXCLUDED.refunded_amount,
              reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at`,
      params: [orderId, p.customerId, p.amount, p.refundedAmount, p.currency, p.status, p.reason, p.updatedAt],
    };
  },

  async customerHistory(reader, customerId, orderId, since) {
    const res = await reader.query<{ prior: number; in_window: number; amount: string }>(
      `SELECT count(*)::int AS prior, (count(*) FILTER (WHERE created_at > $3))::int AS in_window,
              COALESCE(sum(amount) FILTER (WHERE created_at > $3), 0)::text AS amount
         FROM payments WHERE customer_id = $1 AND order_id <> $2::uuid`,
      [customerId, orderId, since],
    );
    const r = res.rows[0];
    return {
      priorOrders: Number(r?.prior ?? 0),
      ordersInWindow: Number(r?.in_window ?? 0),
      amountInWindow: Number(r?.amount ?? 0),
    };
  },

  openAccount(a, at): Write {
    return {
      sql: `INSERT INTO accounts (customer_id, balance, currency, created_at, updated_at) VALUES ($1, 0, $2, $3, $3)
            ON CONFLICT (customer_id) DO UPDATE SET currency = EXCLUDED.currency, updated_at = EXCLUDED.updated_at`,
      params: [a.customerId, a.currency, at],
    };
  },
};

export interface AccountView {
  customerId: string;
  balance: number;
  currency: string;
}

export async function readAccount(q: Queryable, customerId: string): Promise<AccountView | undefined> {
  const res = await q.query<AccountRow>('SELECT customer_id, balance, currency FROM accounts WHERE customer_id = $1', [
    customerId,
  ]);
  return accountOf(res.rows[0]) ?? undefined;
}

export interface PaymentView {
  orderId: string;
  customerId: string;
  amount: number;
  currency: string;
  status: 'APPROVED' | 'DECLINED' | 'REFUNDED' | 'HELD';
  reason?: string;
  refundedAmount: number;
  createdAt: string;
  updatedAt: string;
}

export async function readPayment(q: Queryable, orderId: string): Promise<PaymentView | undefined> {
  const res = await q.query<PaymentRow & { created_at: Date }>(
    `SELECT customer_id, amount, refunded_amount, currency, status, reason, created_at, updated_at
       FROM payments WHERE order_id = $1`,
    [orderId],
  );
  const r = res.rows[0];
  if (!r) return undefined;
  return {
    orderId,
    customerId: r.customer_id,
    amount: Number(r.amount),
    currency: r.currency,
    status: r.status,
    ...(r.reason ? { reason: r.reason } : {}),
    refundedAmount: Number(r.refunded_amount),
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

export interface MoneyMovementView {
  id: number;
  customerId: string;
  orderId: string | null;
  kind: string;
  delta: number;
  currency: string;
  balanceAfter: number;
  at: string;
}

/** Money movements, oldest first, filtered by customer and/or order; `after` is the last id of the previous page. */
export async function listMoneyMovements(
  q: Queryable,
  f: { customerId?: string; orderId?: string; limit: number; after?: number },
): Promise<{ items: MoneyMovementView[]; last?: number }> {
  const res = await q.query<{
    id: number;
    customer_id: string;
    order_id: string | null;
    kind: string;
    delta: number;
    currency: string;
    balance_after: number;
    at: Date;
  }>(
    `SELECT id, customer_id, order_id, kind, delta, currency, balance_after, at FROM money_movements
      WHERE ($1::text IS NULL OR customer_id = $1) AND ($2::uuid IS NULL OR order_id = $2)
        AND ($3::bigint IS NULL OR id > $3)
      ORDER BY id LIMIT $4`,
    [f.customerId ?? null, f.orderId ?? null, f.after ?? null, f.limit + 1],
  );
  const items = res.rows.slice(0, f.limit).map((r) => ({
    id: Number(r.id),
    customerId: r.customer_id,
    orderId: r.order_id,
    kind: r.kind,
    delta: Number(r.delta),
    currency: r.currency,
    balanceAfter: Number(r.balance_after),
    at: new Date(r.at).toISOString(),
  }));
  return { items, last: res.rows.length > f.limit ? items[items.length - 1]?.id : undefined };
}

/** What the audit of SPEC §9 reads of the payment service. */
export interface MoneyAuditFacts {
  accounts: { customerId: string; balance: number }[];
  /** Per customer, the sum of its movements (`total`) and what deductions and refunds took (`taken`). */
  movementTotals: { customerId: string; total: number; taken: number }[];
  payments: {
    orderId: string;
    customerId: string;
    amount: number;
    refundedAmount: number;
    status: PaymentView['status'];
    reason: string | null;
  }[];
  /** The same kind of movement applied more than once for one order (and return). */
  repeatedMovements: { orderId: string; kind: string; count: number }[];
  /** Every return's refund payment answered (issue 21), refunded or refused. */
  returnRefunds: { orderId: string; returnId: string; status: ReturnRefund['status']; amount: number }[];
}

/** Read inside the caller's snapshot (one repeatable-read transaction), so the parts agree. */
export async function auditMoney(snapshot: Queryable): Promise<MoneyAuditFacts> {
  const accounts = await snapshot.query<AccountRow>('SELECT customer_id, balance, currency FROM accounts');
  const totals = await snapshot.query<{ customer_id: string; total: number; taken: number }>(
    `SELECT customer_id, sum(delta)::bigint AS total,
            coalesce(sum(-delta) FILTER (WHERE kind IN ('deduction', 'refund', 'return_refund')), 0)::bigint AS taken
       FROM money_movements GROUP BY customer_id`,
  );
  const payments = await snapshot.query<PaymentRow & { order_id: string }>(
    `SELECT order_id::text AS order_id, customer_id, amount, refunded_amount, currency, status, reason, updated_at
       FROM payments`,
  );
  const repeated = await snapshot.query<{ order_id: string; kind: string; n: number }>(
    `SELECT order_id::text AS order_id, kind, count(*)::int AS n FROM money_movements
      WHERE order_id IS NOT NULL GROUP BY order_id, return_id, kind HAVING count(*) > 1`,
  );
  const refunds = await snapshot.query<{
    order_id: string;
    return_id: string;
    status: ReturnRefund['status'];
    amount: number;
  }>('SELECT order_id::text AS order_id, return_id::text AS return_id, status, amount FROM return_refunds');
  return {
    accounts: accounts.rows.map((a) => ({ customerId: a.customer_id, balance: Number(a.balance) })),
    movementTotals: totals.rows.map((t) => ({
      customerId: t.customer_id,
      total: Number(t.total),
      taken: Number(t.taken),
    })),
    payments: payments.rows.map((p) => ({
      orderId: p.order_id,
      customerId: p.customer_id,
      amount: Number(p.amount),
      refundedAmount: Number(p.refunded_amount),
      status: p.status,
      reason: p.reason ?? null,
    })),
    repeatedMovements: repeated.rows.map((m) => ({ orderId: m.order_id, kind: m.kind, count: Number(m.n) })),
    returnRefunds: refunds.rows.map((r) => ({
      orderId: r.order_id,
      returnId: r.return_id,
      status: r.status,
      amount: Number(r.amount),
    })),
  };
}
