import { applyOnce, type Database, type IdempotencyKeyClaim, type Idempotent, type Queryable } from '@commerce/kernel';
import { decideTopUp, type TopUpRefusal } from '../domain/payment.js';
import { applyBalanceChange, lockAccount } from './chargePayment.js';

export interface AccountView {
  customerId: string;
  balance: number;
  currency: string;
}

/**
 * Creates or replaces an account; the change of balance is recorded as a `set` movement in the same transaction,
 * so that money conservation (SPEC §9) can be proven from the movements.
 */
export async function putAccount(
  db: Database,
  now: Date,
  a: { customerId: string; balance: number; currency: string },
): Promise<AccountView> {
  return db.transaction(async (tx) => {
    // A concurrent first PUT of the same customer waits on this insert, then updates the row it made.
    await tx.query(
      `INSERT INTO accounts (customer_id, balance, currency, created_at, updated_at) VALUES ($1, 0, $2, $3, $3)
       ON CONFLICT (customer_id) DO NOTHING`,
      [a.customerId, a.currency, now],
    );
    const current = await lockAccount(tx, a.customerId);
    const delta = a.balance - (current?.balance ?? 0);
    await tx.query('UPDATE accounts SET currency = $2, updated_at = $3 WHERE customer_id = $1', [
      a.customerId,
      a.currency,
      now,
    ]);
    if (delta !== 0) await applyBalanceChange(tx, { customerId: a.customerId, kind: 'set', delta }, null, now);
    return (await readAccount(tx, a.customerId))!;
  });
}

/** A top-up refused: nothing was applied (and no Idempotency-Key recorded). */
export class TopUpRefusedError extends Error {
  constructor(
    readonly reason: TopUpRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'TopUpRefusedError';
  }
}

/**
 * Adds money to an account (movement `deposit`, so that money conservation counts it); throws TopUpRefusedError for
 * an unknown customer, another currency than the account's, or a balance that would pass MAX_BALANCE. With an
 * Idempotency-Key it is applied once: a retry of the same request answers the first result again.
 */
export async function topUpAccount(
  db: Database,
  now: Date,
  t: { customerId: string; amount: number; currency: string },
  key?: IdempotencyKeyClaim,
): Promise<Idempotent<AccountView>> {
  return applyOnce(db, key, now, async (tx) => {
    const account = await lockAccount(tx, t.customerId);
    const decision = decideTopUp(account, t);
    if ('refused' in decision)
      throw new TopUpRefusedError(
        decision.refused,
        decision.refused === 'UNKNOWN_CUSTOMER'
          ? `customer ${t.customerId} not found`
          : decision.refused === 'CURRENCY_MISMATCH'
            ? `currency: expected the account's currency ${account?.currency}, got ${t.currency}`
            : `amount: the balance ${account?.balance} plus ${t.amount} would pass the largest balance kept`,
      );
    const balance = await applyBalanceChange(tx, decision.balance, null, now);
    return { customerId: t.customerId, balance, currency: t.currency };
  });
}

export async function readAccount(q: Queryable, customerId: string): Promise<AccountView | undefined> {
  const res = await q.query<{ customer_id: string; balance: number; currency: string }>(
    'SELECT customer_id, balance, currency FROM accounts WHERE customer_id = $1',
    [customerId],
  );
  const r = res.rows[0];
  return r ? { customerId: r.customer_id, balance: Number(r.balance), currency: r.currency } : undefined;
}

export interface PaymentView {
  orderId: string;
  customerId: string;
  amount: number;
  currency: string;
  status: 'APPROVED' | 'DECLINED' | 'REFUNDED';
  reason?: string;
  refundedAmount: number;
  createdAt: string;
  updatedAt: string;
}

export async function readPayment(q: Queryable, orderId: string): Promise<PaymentView | undefined> {
  const res = await q.query<{
    customer_id: string;
    amount: number;
    refunded_amount: number;
    currency: string;
    status: PaymentView['status'];
    reason: string | null;
    created_at: Date;
    updated_at: Date;
  }>(
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
