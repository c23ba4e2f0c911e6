/**
 * Building the messages a service sends: every service's events leave in the same envelope (SPEC §5), on the
 * exchange the contract names for their type, routed by their type in lower case with dots.
 */
import { type Envelope, EVENTS, type EventType, routingKeyOf, SCHEMA_VERSION } from '@commerce/contracts';
import type { OutgoingMessage } from './bus/port.js';

export interface MessageOf<T extends EventType = EventType> {
  eventId: string;
  eventType: T;
  orderId: string;
  data: unknown;
  occurredAt: Date | string;
  /** eventId of the message that caused it; null for a request or a timer. */
  causationId: string | null;
  /** The service that sends it. */
  source: string;
  traceparent?: string;
}

export function envelopeOf(m: MessageOf): Envelope {
  return {
    eventId: m.eventId,
    eventType: m.eventType,
    schemaVersion: SCHEMA_VERSION,
    occurredAt: m.occurredAt instanceof Date ? m.occurredAt.toISOString() : m.occurredAt,
    orderId: m.orderId,
    causationId: m.causationId,
    source: m.source,
    data: m.data,
  };
}

/** The outbox message of an event: its envelope on the contract's exchange, routed by its type. */
export function outgoingMessage(m: MessageOf): OutgoingMessage {
  return {
    exchange: EVENTS[m.eventType].exchange,
    routingKey: routingKeyOf(m.eventType),
    envelope: envelopeOf(m),
    traceparent: m.traceparent,
  };
}
