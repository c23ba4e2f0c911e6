/**
 * The payment deciders: what one order message does to a customer's balance and to the order's payment, and what an
 * admin's top-up or account PUT does to a balance. Pure: time comes in as `now`; the application layer loads the
 * (locked) state, calls a decider and turns its decision into an effect (balance, movement, payment row, marker,
 * reply) that commits in one transaction.
 */

/** HELD: the risk step holds the order for review, nothing taken yet (riskPayment.ts). */
export type PaymentStatus = 'APPROVED' | 'DECLINED' | 'REFUNDED' | 'HELD';
export type PaymentFailureReason = 'INSUFFICIENT_FUNDS' | 'UNKNOWN_CUSTOMER' | 'CURRENCY_MISMATCH' | 'RISK_REJECTED';
export type MoneyMovementKind = 'deposit' | 'set' | 'deduction' | 'refund' | 'return_refund';

/** Reason stored on a payment that was undone before it was requested (no money ever taken). */
export const UNDONE_BEFORE_REQUEST = 'UNDONE_BEFORE_REQUEST';

export interface Account {
  customerId: string;
  balance: number;
  currency: string;
}

export interface Payment {
  customerId: string;
  /** The order total asked for (what was taken while APPROVED). */
  amount: number;
  currency: string;
  status: PaymentStatus;
  reason: string | null;
  /** What the refund gave back (0 when nothing had been taken). */
  refundedAmount: number;
  /** When the payment last changed (its creation, then its refund). */
  updatedAt: Date;
}

export interface PaymentOrderState {
  account: Account | null;
  payment: Payment | null;
  /** A rollback arrived before the payment request: the late ORDER_CREATED must not deduct. */
  rollbackMarker: boolean;
}

export interface ChargeCommand {
  type: 'charge';
  customerId: string;
  amount: number;
  currency: string;
}
export interface RefundCommand {
  type: 'refund';
  /** Known for a rollback request, not for ORDER_CANCELLED. */
  currency?: string;
}
export type PaymentCommand = ChargeCommand | RefundCommand;

/** A change of a balance, recorded as a money movement of `kind` at `at`. */
export interface BalanceChange {
  customerId: string;
  kind: MoneyMovementKind;
  delta: number;
  at: Date;
}

export type PaymentReply =
  | { eventType: 'PAYMENT_APPROVED'; data: { amount: number; currency: string } }
  | { eventType: 'PAYMENT_DECLINED'; data: { reason: PaymentFailureReason; riskReasons?: string[] } }
  | { eventType: 'PAYMENT_REFUNDED'; data: { amount: number; currency: string } }
  | { eventType: 'PAYMENT_REVIEW_REQUIRED'; data: { score: number; reasons: string[] } };

export interface PaymentDecision {
  balance?: BalanceChange;
  /** The payment row as it must be stored afterwards (undefined: unchanged). */
  payment?: Payment;
  storeMarker?: boolean;
  reply?: PaymentReply;
}

const NOTHING: PaymentDecision = {};

export function decidePayment(command: PaymentCommand, state: PaymentOrderState, now: Date): PaymentDecision {
  const p = state.payment;
  if (command.type === 'charge') {
    // Already decided for this order (another message id): the first answer stands.
    if (p) return NOTHING;
    const base = { customerId: command.customerId, amount: command.amount, currency: command.currency, updatedAt: now };
    if (state.rollbackMarker)
      return {
        payment: { ...base, status: 'REFUNDED', reason: UNDONE_BEFORE_REQUEST, refundedAmount: 0 },
        reply: { eventType: 'PAYMENT_REFUNDED', data: { amount: 0, currency: command.currency } },
      };
    const decline = (reason: PaymentFailureReason): PaymentDecision => ({
      payment: { ...base, status: 'DECLINED', reason, refundedAmount: 0 },
      reply: { eventType: 'PAYMENT_DECLINED', data: { reason } },
    });
    const a = state.account;
    if (!a || a.customerId !== command.customerId) return decline('UNKNOWN_CUSTOMER');
    if (a.currency !== command.currency) return decline('CURRENCY_MISMATCH');
    if (a.balance < command.amount) return decline('INSUFFICIENT_FUNDS');
    return {
      balance: { customerId: a.customerId, kind: 'deduction', delta: -command.amount, at: now },
      payment: { ...base, status: 'APPROVED', reason: null, refundedAmount: 0 },
      reply: { eventType: 'PAYMENT_APPROVED', data: { amount: command.amount, currency: command.currency } },
    };
  }

  // refund
  if (!p) {
    // Nothing taken yet: remember the rollback so that a late ORDER_CREATED is not charged. The answer needs a
    // currency; ORDER_CANCELLED carries none, and the ORDER_PAYMENT_ROLLBACK_REQUESTED sent with it answers instead.
    return {
      storeMarker: !state.rollbackMarker,
      reply: command.currency
        ? { eventType: 'PAYMENT_REFUNDED', data: { amount: 0, currency: command.currency } }
        : undefined,
    };
  }
  if (p.status === 'APPROVED')
    return {
      balance: { customerId: p.customerId, kind: 'refund', delta: p.amount, at: now },
      payment: { ...p, status: 'REFUNDED', refundedAmount: p.amount, updatedAt: now },
      reply: { eventType: 'PAYMENT_REFUNDED', data: { amount: p.amount, currency: p.currency } },
    };
  // DECLINED: nothing was taken. REFUNDED: the refund happened once; the answer repeats it.
  return {
    reply: { eventType: 'PAYMENT_REFUNDED', data: { amount: p.refundedAmount, currency: p.currency } },
  };
}

/** A balance stays a safe integer, so that every sum of it is exact in JavaScript and in bigint. */
export const MAX_BALANCE = Number.MAX_SAFE_INTEGER;

export type TopUpRefusal = 'UNKNOWN_CUSTOMER' | 'CURRENCY_MISMATCH' | 'BALANCE_LIMIT';

/**
 * An admin's top-up (`POST /customers/{id}/top-up`): adds `amount` to the balance as a `deposit` movement, which the
 * money conservation audit counts as money put in, like the `set` of an account's initial balance.
 */
export function decideTopUp(
  account: Account | null,
  topUp: { customerId: string; amount: number; currency: string },
  now: Date,
): { balance: BalanceChange; account: Account } | { refused: TopUpRefusal } {
  if (!account || account.customerId !== topUp.customerId) return { refused: 'UNKNOWN_CUSTOMER' };
  if (account.currency !== topUp.currency) return { refused: 'CURRENCY_MISMATCH' };
  if (account.balance + topUp.amount > MAX_BALANCE) return { refused: 'BALANCE_LIMIT' };
  return {
    balance: { customerId: account.customerId, kind: 'deposit', delta: topUp.amount, at: now },
    account: { ...account, balance: account.balance + topUp.amount },
  };
}

/**
 * An admin's `PUT /customers/{id}`: the account as given (created when new). The difference to the balance before
 * (0 for a new account) is a `set` movement, so that money conservation (SPEC §9) can be proven from the movements.
 */
export function decideAccountPut(
  before: Account | null,
  put: Account,
  now: Date,
): { account: Account; balance?: BalanceChange } {
  const delta = put.balance - (before?.balance ?? 0);
  return {
    account: { ...put },
    ...(delta === 0 ? {} : { balance: { customerId: put.customerId, kind: 'set', delta, at: now } }),
  };
}
