import type { Queryable, Write } from '@commerce/kernel';
import type { Product, PutProduct } from '../domain/product.js';
import type { InventoryOrderState, Reservation, StockChange } from '../domain/reservation.js';
import type { RestockState, ReturnRestock } from '../domain/returnRestock.js';

/** A reservation past its expiry, claimed for the sweeper's transaction, with what the decider knows of its order. */
export interface DueReservation {
  orderId: string;
  state: InventoryOrderState;
}

/**
 * What the inventory use cases need from storage (adapters/store.ts implements it on PostgreSQL and PGlite): loads
 * that run (and lock) inside the change's transaction, and the writes an effect carries.
 */
export interface InventoryStore {
  /**
   * The order's state for its next message: the order's participant lock first (its messages are applied one after
   * the other), then its reservation and whether a rollback came first; `productIds` (a reservation's lines) are
   * locked behind them, in productId order, so that two orders sharing products never deadlock.
   */
  loadOrder(reader: Queryable, orderId: string, productIds: readonly string[]): Promise<InventoryOrderState>;
  /**
   * Up to `limit` reservations due at `now` that nobody else is handling (another sweeper's, or an order a consumer
   * holds right now, are left for the next sweep), locked, with every product they name. `full` when `limit`
   * reservations were due: more may be.
   */
  claimDueReservations(reader: Queryable, now: Date, limit: number): Promise<{ due: DueReservation[]; full: boolean }>;
  /** A product, locked; undefined when there is no such product. */
  lockProduct(reader: Queryable, productId: string): Promise<Product | undefined>;
  /** The product an admin PUTs, locked; a new one is made first, empty, so that concurrent first PUTs queue on it. */
  lockProductForPut(reader: Queryable, put: PutProduct, at: Date): Promise<Product>;

  /**
   * A return's state (issue 21): the order's participant lock first, then its reservation and the returns answered,
   * then `productIds` locked in productId order (as a reservation locks them).
   */
  loadReturn(reader: Queryable, orderId: string, productIds: readonly string[]): Promise<RestockState>;
  /** Stock deltas and their movement rows (the counts' CHECK constraints refuse a negative one); `returnId` tags a return's. */
  changeStock(changes: readonly StockChange[], orderId: string | null, at: Date, returnId?: string): Write[];
  /** The answer to a return, kept once per (order, return). */
  saveReturnRestock(orderId: string, returnId: string, restock: ReturnRestock, at: Date): Write;
  saveReservation(orderId: string, reservation: Reservation, at: Date): Write;
  /** A product's name, price and currency (its counts change through changeStock only). */
  saveProductDetails(product: Product, at: Date): Write;
}

/** What the inventory use cases are given: the store, the clock, ids and the reservation's time to live. */
export interface InventoryDeps {
  store: InventoryStore;
  now(): Date;
  newId(): string;
  reservationTtlMs: number;
}
