import type { Queryable, RiskSettings, Write } from '@commerce/kernel';
import type { PartialRefundState, ReturnRefund } from '../domain/partialRefund.js';
import type { Account, BalanceChange, Payment, PaymentOrderState } from '../domain/payment.js';
import type { CustomerHistory } from '../domain/risk.js';

/**
 * What the payment use cases need from storage (adapters/store.ts implements it on PostgreSQL and PGlite): loads
 * that run (and lock) inside the change's transaction, and the writes an effect carries.
 */
export interface PaymentStore {
  /**
   * The order's payment state, locked for the transaction: the order (one message of it at a time, with whether a
   * rollback came first), its payment row and, for a charge, the charged customer's account (FOR UPDATE: concurrent
   * orders of one customer deduct one after the other, none lost).
   */
  loadOrderPayment(reader: Queryable, orderId: string, chargedCustomerId?: string): Promise<PaymentOrderState>;
  /** An account, locked for the transaction (FOR UPDATE); null when there is none. */
  lockAccount(reader: Queryable, customerId: string): Promise<Account | null>;
  /** Like lockAccount, but the lock holds even while the account does not exist yet (its first PUT creates it). */
  lockAccountForPut(reader: Queryable, customerId: string): Promise<Account | null>;
  /**
   * A balance change and its money movement. The change is guarded: it refuses the whole effect when the balance
   * would go below 0 or the account is missing (the row lock taken by the load makes that a bug, never a race).
   */
  changeBalance(change: BalanceChange, orderId: string | null, returnId?: string): Write[];
  /** A return's refund state (issue 21): the order's lock, its payment row and the refunds of its returns. */
  loadReturnRefunds(reader: Queryable, orderId: string): Promise<PartialRefundState>;
  /** The answer to a return's refund, kept once per (order, return). */
  saveReturnRefund(orderId: string, returnId: string, refund: ReturnRefund, at: Date): Write;
  /** The order's payment row as the decision leaves it. */
  savePayment(orderId: string, payment: Payment): Write;
  /** Creates the account (balance 0) or sets its currency; its balance changes only through changeBalance. */
  openAccount(account: { customerId: string; currency: string }, at: Date): Write;
  /** The customer's orders before this one: all of them, and those created after `since` (the risk rules' facts). */
  customerHistory(reader: Queryable, customerId: string, orderId: string, since: Date): Promise<CustomerHistory>;
}

/** What the payment use cases are given: the store, the clock and ids. */
export interface PaymentDeps {
  store: PaymentStore;
  now(): Date;
  newId(): string;
  /** Payment's risk rules (docs/risk.md); absent or all off: every charge is decided on the balance alone. */
  risk?: RiskSettings;
}
