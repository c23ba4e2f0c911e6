import { createLogger, OutboxRelay, RabbitMqBus } from '@commerce/kernel';
import amqp from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, describeWith, waitFor } from '../../../../test/support/services.js';
import { type OrderHarness, orderHarness, placeOrder } from '../../test-fixtures/harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describeWith(['postgres', 'rabbitmq'], 'ORDER_CREATED through the outbox to RabbitMQ', () => {
  let h: OrderHarness;
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  let bus: RabbitMqBus;
  let relay: OutboxRelay;
  let conn: amqp.ChannelModel;
  beforeAll(async () => {
    h = await orderHarness();
    vhost = await createTestVhost('order');
    const log = createLogger({ level: 'silent' });
    bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'order-test' });
    await bus.start();
    relay = new OutboxRelay({ db: h.db, bus, log, pollIntervalMs: 100 });
    conn = await amqp.connect(vhost.url);
  });
  afterAll(async () => {
    await relay?.stop();
    await conn?.close().catch(() => {});
    await bus?.close();
    await h?.close();
    await vhost?.drop();
  });

  it('publishes the SPEC §5 envelope, persistent, with messageId, type, content type and traceparent', async () => {
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(queue, 'order_events', 'order.#');
    const received: amqp.ConsumeMessage[] = [];
    await ch.consume(queue, (m) => m && received.push(m), { noAck: true });

    const placed = await placeOrder(h.deps, {
      principalSub: 'alice',
      customerId: 'alice',
      currency: 'EUR',
      items: [{ productId: 'sku-1', quantity: 2, unitPrice: 1250 }],
      traceparent: TRACEPARENT,
    });
    if (placed.kind !== 'created') throw new Error('not created');
    const orderId = placed.order.orderId;
    await relay.start();
    const msg = await waitFor(() => received.find((m) => JSON.parse(m.content.toString()).orderId === orderId), {
      what: 'ORDER_CREATED on the test queue',
    });

    const envelope = JSON.parse(msg.content.toString());
    expect(Object.keys(envelope).sort()).toEqual(
      ['causationId', 'data', 'eventId', 'eventType', 'occurredAt', 'orderId', 'schemaVersion', 'source'].sort(),
    );
    expect(envelope).toMatchObject({
      eventType: 'ORDER_CREATED',
      schemaVersion: 1,
      orderId,
      causationId: null,
      source: 'order',
      data: {
        customerId: 'alice',
        currency: 'EUR',
        items: [{ productId: 'sku-1', quantity: 2, unitPrice: 1250 }],
        totalAmount: 2500,
      },
    });
    expect(envelope.eventId).toMatch(UUID);
    expect(new Date(envelope.occurredAt).toISOString()).toBe(envelope.occurredAt);
    expect(msg.fields.exchange).toBe('order_events');
    expect(msg.fields.routingKey).toBe('order.created');
    expect(msg.properties.messageId).toBe(envelope.eventId);
    expect(msg.properties.type).toBe('ORDER_CREATED');
    expect(msg.properties.contentType).toBe('application/json');
    expect(msg.properties.deliveryMode).toBe(2);
    expect(msg.properties.correlationId).toBe(orderId);
    expect(msg.properties.headers?.traceparent).toBe(TRACEPARENT);
    // the event in the store is the message that was published
    const stored = await h.db.query<{ event_id: string }>(
      "SELECT event_id::text AS event_id FROM events WHERE stream_id = $1 AND event_type = 'ORDER_CREATED'",
      [`order-${orderId}`],
    );
    expect(stored.rows[0]?.event_id).toBe(envelope.eventId);
    await waitFor(
      async () => {
        const r = await h.db.query('SELECT 1 FROM outbox WHERE message_id = $1 AND published_at IS NOT NULL', [
          envelope.eventId,
        ]);
        return r.rowCount === 1;
      },
      { what: 'outbox row marked published' },
    );
  });
});
