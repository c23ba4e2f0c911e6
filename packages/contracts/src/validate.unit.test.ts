import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidMessageError, parseEnvelope, routingKeyOf } from './index.js';

const envelope = (over: Record<string, unknown> = {}) => ({
  eventId: randomUUID(),
  eventType: 'ORDER_CONFIRMED',
  schemaVersion: 1,
  occurredAt: '2026-11-29T10:00:00.000Z',
  orderId: randomUUID(),
  causationId: null,
  source: 'order',
  data: {},
  ...over,
});

describe('parseEnvelope', () => {
  it('accepts a valid envelope', () => {
    const e = envelope();
    expect(parseEnvelope(JSON.stringify(e))).toEqual(e);
  });
  it('rejects invalid JSON with the reason', () => {
    expect(() => parseEnvelope('{nope')).toThrow(/not valid JSON/);
  });
  it('rejects an unknown event type', () => {
    expect(() => parseEnvelope(JSON.stringify(envelope({ eventType: 'ORDER_EXPLODED' })))).toThrow(InvalidMessageError);
  });
  it('names the bad field of a payload', () => {
    const bad = envelope({ eventType: 'PAYMENT_APPROVED', data: { amount: 1.5, currency: 'EUR' } });
    expect(() => parseEnvelope(JSON.stringify(bad))).toThrow(/\/amount/);
  });
  it('rejects a schemaVersion newer than this consumer knows, naming it', () => {
    expect(() => parseEnvelope(JSON.stringify(envelope({ schemaVersion: 2 })))).toThrow(
      'schemaVersion 2 of ORDER_CONFIRMED is newer than this consumer knows (1)',
    );
  });
  it('rejects extra envelope fields and a non-uuid orderId', () => {
    expect(() => parseEnvelope(JSON.stringify(envelope({ extra: 1 })))).toThrow(InvalidMessageError);
    expect(() => parseEnvelope(JSON.stringify(envelope({ orderId: "1' OR 1=1" })))).toThrow(/orderId/);
  });
});

describe('routingKeyOf', () => {
  it('maps event types to dotted lower case', () => {
    expect(routingKeyOf('ORDER_CREATED')).toBe('order.created');
    expect(routingKeyOf('ORDER_PAYMENT_ROLLBACK_REQUESTED')).toBe('order.payment.rollback.requested');
  });
});
