/**
 * The versions of the events the order service stores, and the upcasters that read older ones (kernel upcasters.ts).
 * Writers store `currentVersion(type)` in each event's metadata; every read (the decider's load, the projections'
 * subscriptions, GET /orders/{id}/events) goes through `upcastOrderEvent`.
 */
import { type StoredEvent, UpcasterRegistry } from '@commerce/kernel';
import { totalAmountOf } from '../domain/index.js';

interface CreatedV1 {
  items: { productId: string; quantity: number; unitPrice: number }[];
  totalAmount?: number;
}

export const orderUpcasters = new UpcasterRegistry()
  // ORDER_CREATED v1 may lack totalAmount (the first builds stored only the items): v2 always carries
  // Σ quantity × unitPrice, in minor units, as the decider computes it at placement.
  .register('ORDER_CREATED', 1, (data) => {
    const d = data as CreatedV1;
    if (typeof d.totalAmount === 'number') return d;
    const total = totalAmountOf(d.items);
    if (total === undefined) throw new Error('ORDER_CREATED v1: the total of its items exceeds the largest amount');
    return { ...d, totalAmount: total };
  });

/** The version of its type's data that a new event is stored with. */
export const orderEventVersion = (eventType: string): number => orderUpcasters.currentVersion(eventType);

export const upcastOrderEvent = <T = unknown>(e: StoredEvent): StoredEvent<T> => orderUpcasters.upcast<T>(e);
