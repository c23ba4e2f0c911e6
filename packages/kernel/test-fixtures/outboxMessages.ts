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
