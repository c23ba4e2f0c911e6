/**
 * The AsyncAPI 3.0 document of the platform's events (issue 23), made from the contracts the code publishes and
 * validates with — EVENTS (payload schemas), EnvelopeSchema, CONSUMER_QUEUES and CONSUMER_BINDINGS — so that the
 * two cannot drift. The order service serves it at /asyncapi.json.
 */
import type { TSchema } from '@sinclair/typebox';
import { EnvelopeSchema, routingKeyOf } from './envelope.js';
import { CONSUMER_BINDINGS, CONSUMER_QUEUES, EVENT_TYPES, EVENTS, type EventType, type Exchange } from './events.js';

type Json = Record<string, unknown>;

/** A TypeBox schema as plain JSON Schema (TypeBox's symbol keys dropped). */
const plain = (schema: TSchema): Json => JSON.parse(JSON.stringify(schema)) as Json;

/** `ORDER_CREATED` → `OrderCreated`. */
export const messageNameOf = (eventType: string) =>
  eventType
    .toLowerCase()
    .split('_')
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join('');

const PRODUCER: Record<Exchange, string> = {
  order_events: 'order',
  inventory_events: 'inventory',
  payment_events: 'payment',
};

/** `inventory.order_events` → `inventoryOrderEventsQueue` (channel ids must be URL-safe names). */
const idOf = (name: string, suffix: string) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w : w[0]?.toUpperCase() + w.slice(1)))
    .join('') + suffix;

function matches(pattern: string, key: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('.')
      .map((w) => (w === '#' ? '.*' : w === '*' ? '[^.]+' : w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('\\.')}$`,
  );
  return re.test(key);
}

const AMQP = { bindingVersion: '0.3.0' };

export function asyncApiDocument(o: { orderPartitions: number; version?: string }): Json {
  const envelope = plain(EnvelopeSchema);
  const envelopeProps = envelope.properties as Json;
  const messages: Json = {};
  const schemas: Json = { Envelope: { ...envelope, description: 'The wire envelope of every message (SPEC §5)' } };
  const channels: Json = {};
  const operations: Json = {};

  for (const type of EVENT_TYPES) {
    const name = messageNameOf(type);
    const { exchange, data } = EVENTS[type];
    schemas[`${name}Data`] = plain(data);
    schemas[name] = {
      ...envelope,
      description: `The envelope of ${type}, with its data`,
      properties: {
        ...envelopeProps,
        eventType: { type: 'string', const: type },
        data: { $ref: `#/components/schemas/${name}Data` },
      },
    };
    messages[name] = {
      name: type,
      title: name,
      summary: `${type}, published by the ${PRODUCER[exchange]} service on ${exchange} with routing key ${routingKeyOf(type)}`,
      contentType: 'application/json',
      headers: { $ref: '#/components/schemas/MessageHeaders' },
      payload: { $ref: `#/components/schemas/${name}` },
      correlationId: { $ref: '#/components/correlationIds/orderId' },
      bindings: { amqp: { ...AMQP, messageType: type } },
    };
    const channelId = idOf(routingKeyOf(type), 'Event');
    channels[channelId] = {
      address: routingKeyOf(type),
      title: `${type} on ${exchange}`,
      messages: { [name]: { $ref: `#/components/messages/${name}` } },
      bindings: {
        amqp: {
          ...AMQP,
          is: 'routingKey',
          exchange: { name: exchange, type: 'topic', durable: true, autoDelete: false, vhost: '/' },
        },
      },
    };
    operations[`publish${name}`] = {
      action: 'send',
      title: `The ${PRODUCER[exchange]} service publishes ${type}`,
      summary: 'Published through the transactional outbox: at least once, in order per order, persistent.',
      channel: { $ref: `#/channels/${channelId}` },
      messages: [{ $ref: `#/channels/${channelId}/messages/${name}` }],
      bindings: { amqp: { ...AMQP, deliveryMode: 2, mandatory: false } },
    };
  }

  for (const [consumer, queue] of Object.entries(CONSUMER_QUEUES) as [keyof typeof CONSUMER_QUEUES, string][]) {
    const bindings = CONSUMER_BINDINGS[consumer];
    const received = (EVENT_TYPES as EventType[]).filter((t) =>
      bindings.some((b) => b.exchange === EVENTS[t].exchange && matches(b.routingKey, routingKeyOf(t))),
    );
    const queueMessages = Object.fromEntries(
      received.map((t) => [messageNameOf(t), { $ref: `#/components/messages/${messageNameOf(t)}` }]),
    );
    const boundTo = bindings.map((b) => `${b.exchange} ${b.routingKey}`).join(', ');
    const partitioned = consumer === 'orderSaga';
    const channelId = idOf(queue, 'Queue');
    channels[channelId] = partitioned
      ? {
          address: `${queue}.p{partition}`,
          title: `Partitioned queues ${queue}.p0 … p${o.orderPartitions - 1}`,
          description:
            `A consistent-hash exchange \`${queue}\` (hash of correlation_id = orderId), bound to ${boundTo}, feeds ` +
            `ORDER_PARTITIONS (${o.orderPartitions}) quorum queues with a single active consumer each: one order's ` +
            'messages are handled in order by one worker. In-process (embedded default): the same partitions in memory.',
          parameters: { partition: { $ref: '#/components/parameters/partition' } },
          messages: queueMessages,
          bindings: {
            amqp: {
              ...AMQP,
              is: 'queue',
              queue: { name: `${queue}.p{partition}`, durable: true, exclusive: false, autoDelete: false, vhost: '/' },
            },
          },
        }
      : {
          address: queue,
          title: `Queue ${queue}`,
          description: `Durable quorum queue of the ${consumer} service, bound to ${boundTo}.`,
          messages: queueMessages,
          bindings: {
            amqp: {
              ...AMQP,
              is: 'queue',
              queue: { name: queue, durable: true, exclusive: false, autoDelete: false, vhost: '/' },
            },
          },
        };
    const service = consumer === 'orderSaga' ? 'order' : consumer;
    operations[`receive${idOf(queue, '')[0]?.toUpperCase()}${idOf(queue, '').slice(1)}`] = {
      action: 'receive',
      title: `The ${service} service consumes ${queue}`,
      summary:
        'Acked after the handler committed; retried with backoff, then dead-lettered to ' +
        `${queue}.dlq after MAX_DELIVERY_ATTEMPTS. Duplicates are skipped (inbox keyed by message id).`,
      channel: { $ref: `#/channels/${channelId}` },
      messages: received.map((t) => ({ $ref: `#/channels/${channelId}/messages/${messageNameOf(t)}` })),
      bindings: { amqp: { ...AMQP, ack: true } },
    };
    const dlqId = idOf(`${queue}.dlq`, 'Queue');
    channels[dlqId] = {
      address: `${queue}.dlq`,
      title: `Dead letters of ${queue}`,
      description: 'Durable classic queue: messages that failed every attempt, with why (see DeadLetterHeaders).',
      messages: { DeadLetter: { $ref: '#/components/messages/DeadLetter' } },
      bindings: {
        amqp: {
          ...AMQP,
          is: 'queue',
          queue: { name: `${queue}.dlq`, durable: true, exclusive: false, autoDelete: false, vhost: '/' },
        },
      },
    };
  }

  schemas.MessageHeaders = {
    type: 'object',
    description:
      'AMQP headers. The AMQP properties are set too: message_id = eventId (the consumers de-duplicate on it), ' +
      'type = eventType, correlation_id = orderId (what the partition exchange hashes), content_type ' +
      'application/json, delivery_mode 2 (persistent).',
    properties: {
      traceparent: {
        type: 'string',
        description: 'W3C trace context of the request or message that caused this one',
        pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
      },
    },
  };
  schemas.DeadLetterHeaders = {
    type: 'object',
    description: 'The original message headers, plus why it was dead-lettered',
    properties: {
      ...(schemas.MessageHeaders as { properties: Json }).properties,
      'x-error': { type: 'string', description: 'the last error message, or the parse failure' },
      'x-attempts': { type: 'integer', description: 'the number of the last attempt' },
      'x-original-exchange': { type: 'string' },
      'x-original-routing-key': { type: 'string' },
      'x-original-queue': { type: 'string', description: 'a partition queue for the partitioned saga queue' },
      'x-dead-lettered-at': { type: 'string', format: 'date-time' },
      'x-replayed-at': { type: 'string', format: 'date-time', description: 'set when an operator replayed it' },
    },
  };
  messages.DeadLetter = {
    name: 'DeadLetter',
    title: 'A dead-lettered message',
    summary: 'The message as it was received (its body may not even be JSON), with the dead-letter headers',
    contentType: 'application/json',
    headers: { $ref: '#/components/schemas/DeadLetterHeaders' },
    payload: {},
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Commerce Platform events',
      version: o.version ?? '0.1.0',
      description:
        'The events of the order saga (SPEC §5). Each service publishes its events, through its transactional ' +
        'outbox, to its topic exchange (order_events, inventory_events, payment_events) with the routing key ' +
        'made from the event type (ORDER_CREATED → order.created). Delivery is at least once; consumers ' +
        'de-duplicate by message id.',
    },
    defaultContentType: 'application/json',
    servers: {
      rabbitmq: {
        host: 'localhost:5672',
        protocol: 'amqp',
        protocolVersion: '0.9.1',
        description: 'RabbitMQ (AMQP_URL), with the consistent-hash exchange plugin',
      },
    },
    channels,
    operations,
    components: {
      schemas,
      messages,
      parameters: {
        partition: {
          description: 'Partition number, 0 … ORDER_PARTITIONS − 1',
          enum: Array.from({ length: o.orderPartitions }, (_, i) => String(i)),
        },
      },
      correlationIds: {
        orderId: { description: 'The order the message belongs to', location: '$message.payload#/orderId' },
      },
    },
  };
}
