import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument } from './asyncapi.js';
import { CONSUMER_QUEUES, EVENT_TYPES, EVENTS } from './events.js';

const doc = asyncApiDocument({ orderPartitions: 4 });

describe('AsyncAPI document of the events', () => {
  it('is a valid AsyncAPI 3.0 document for @asyncapi/parser (no errors)', async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
    const errors = diagnostics.filter((d) => d.severity === 0);
    expect(errors.map((d) => `${d.path.join('/')}: ${d.message}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    expect(document?.messages().length).toBe(EVENT_TYPES.length + 1);
  });

  it("carries each event's payload schema from the contracts, the envelope and the headers", () => {
    const schemas = (doc.components as { schemas: Record<string, { properties?: Record<string, unknown> }> }).schemas;
    for (const type of EVENT_TYPES) {
      const name = type
        .toLowerCase()
        .split('_')
        .map((w) => w[0]?.toUpperCase() + w.slice(1))
        .join('');
      expect(schemas[`${name}Data`]).toEqual(JSON.parse(JSON.stringify(EVENTS[type].data)));
      expect(schemas[name]?.properties?.eventType).toEqual({ type: 'string', const: type });
    }
    expect(Object.keys(schemas.Envelope?.properties ?? {})).toEqual(
      expect.arrayContaining(['eventId', 'eventType', 'orderId', 'causationId', 'data']),
    );
    expect(Object.keys(schemas.MessageHeaders?.properties ?? {})).toEqual(['traceparent']);
  });

  it('names the exchanges, routing keys, the partitioned saga queues and every .dlq queue', () => {
    const channels = doc.channels as Record<string, { address: string; bindings: { amqp: Record<string, unknown> } }>;
    const addresses = Object.values(channels).map((c) => c.address);
    expect(addresses).toEqual(expect.arrayContaining(['order.created', 'payment.approved', 'order.saga.p{partition}']));
    for (const queue of Object.values(CONSUMER_QUEUES)) expect(addresses).toContain(`${queue}.dlq`);
    expect(channels.orderCreatedEvent?.bindings.amqp.exchange).toMatchObject({ name: 'order_events', type: 'topic' });
    const inventory = (doc.channels as Record<string, { messages: Record<string, unknown> }>).inventoryOrderEventsQueue;
    expect(Object.keys(inventory?.messages ?? {}).sort()).toEqual(
      [
        'OrderCancelled',
        'OrderConfirmed',
        'OrderCreated',
        'OrderInventoryRollbackRequested',
        'OrderReturnRequested',
        'OrderUnderReview',
      ].sort(),
    );
    // Payment captures a held order on its approval (risk review, docs/risk.md).
    const payment = (doc.channels as Record<string, { messages: Record<string, unknown> }>).paymentOrderEventsQueue;
    expect(Object.keys(payment?.messages ?? {})).toContain('OrderReviewApproved');
  });
});
