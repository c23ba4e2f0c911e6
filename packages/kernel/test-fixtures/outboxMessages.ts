import { randomUUID } from 'node:crypto';
import type { OutgoingMessage } from '../src/bus/port.js';

/** A message of the outbox tests: ORDER_TEST number `seq` of `orderId` (per-order order is checked by seq). */
export function testMessage(orderId: string, seq: number, traceparent?: string): OutgoingMessage {
  return {
    exchange: 'order_events',
    routingKey: 'order.test',
    ...(traceparent ? { traceparent } : {}),
    envelope: {
      eventId: randomUUID(),
      eventType: 'ORDER_TEST',
      schemaVersion: 1,
      occurredAt: new Date(0).toISOString(),
      orderId,
      causationId: null,
      source: 'test',
      data: { seq },
    },
  };
}

/**
 * A valid PAYMENT_APPROVED of `orderId` whose amount is `seq` (consumers behind a real broker validate envelopes):
 * the dispatch tests fold the amounts per order, and the sum shows whether each message was applied exactly once.
 */
export function paymentMessage(orderId: string, seq: number): OutgoingMessage {
  return {
    exchange: 'payment_events',
    routingKey: 'payment.approved',
    envelope: {
      eventId: randomUUID(),
      eventType: 'PAYMENT_APPROVED',
      schemaVersion: 1,
      occurredAt: new Date(0).toISOString(),
      orderId,
      causationId: null,
      source: 'test',
      data: { amount: seq, currency: 'EUR' },
    },
  };
}
