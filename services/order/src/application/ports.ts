import type { Queryable, Write } from '@commerce/kernel';
import type { OrderState } from '../domain/index.js';

export type DeadlineKind = 'saga' | 'compensation';

/** A deadline that came due, claimed for the rest of the transaction that handles it. */
export interface DueDeadline {
  orderId: string;
  kind: DeadlineKind;
}

/**
 * What the order use cases need from storage (adapters/store.ts implements it on PostgreSQL and PGlite): loads that
 * run inside the change's transaction, and the writes an effect carries.
 */
export interface OrderStore {
  /** The order's state, folded from its event stream (initialState() for an order never seen). */
  loadOrder(reader: Queryable, orderId: string): Promise<OrderState>;
  /** One due deadline, locked for this transaction (other pollers skip it); undefined when none is due. */
  claimDueDeadline(reader: Queryable, now: Date): Promise<DueDeadline | undefined>;
  /** The order's read-model row from its state (never moved back to an older version). */
  projectOrder(orderId: string, state: OrderState): Write;
  setDeadline(orderId: string, kind: DeadlineKind, dueAt: Date): Write;
  clearDeadline(orderId: string, kind: DeadlineKind): Write;
}

/** What the order use cases are given: the store, the clock, ids and the saga's timeouts. */
export interface OrderDeps {
  store: OrderStore;
  now(): Date;
  newId(): string;
  sagaTimeoutMs: number;
  compensationTimeoutMs: number;
  /** REVIEW_TIMEOUT_MS: how long an order waits UNDER_REVIEW (docs/risk.md); the domain's default when absent. */
  reviewTimeoutMs?: number;
}

export const streamIdOf = (orderId: string) => `order-${orderId}`;
