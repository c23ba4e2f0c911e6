import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestVhost, describeWith, uniqueName, waitFor } from '../../../test/support/services.js';
import { InProcessBus } from './bus/inProcess.js';
import type { MessageBus } from './bus/port.js';
import { RabbitMqBus } from './bus/rabbitmq.js';
import { createLogger } from './log.js';

const log = createLogger({ level: 'silent' });

const envelope = (schemaVersion: number) => ({
  eventId: randomUUID(),
  eventType: 'ORDER_CONFIRMED',
  schemaVersion,
  occurredAt: new Date().toISOString(),
  orderId: randomUUID(),
  causationId: null,
  source: 'order',
  data: {},
});

/** A consumer that knows schemaVersion 1 gets a version 2 message: dead-lettered at once, with the reason. */
async function newerVersionIsDeadLettered(bus: MessageBus): Promise<void> {
  const handled: string[] = [];
  const queue = uniqueName('versions');
  await bus.subscribe({
    queue,
    bindings: [{ exchange: 'order_events', routingKey: '#' }],
    handler: async (d) => void handled.push(d.envelope.eventId),
    backoffMs: 1,
  });
  const newer = envelope(2);
  const known = envelope(1);
  await bus.publish([
    { exchange: 'order_events', routingKey: 'order.confirmed', envelope: newer },
    { exchange: 'order_events', routingKey: 'order.confirmed', envelope: known },
  ]);
  await waitFor(() => handled.includes(known.eventId), { what: 'the known version handled' });
  const [dead] = await waitFor(async () => {
    const l = await bus.deadLetters.list(queue);
    return l.length === 1 ? l : undefined;
  });
  expect(handled).toEqual([known.eventId]);
  expect(dead?.reason).toBe('schemaVersion 2 of ORDER_CONFIRMED is newer than this consumer knows (1)');
  expect(dead?.attempts).toBe(1);
}

describe('a message newer than its consumer (in-process bus)', () => {
  it('goes to the dead letters with that reason, after one attempt', async () => {
    const bus = new InProcessBus({ log });
    await bus.start();
    try {
      await newerVersionIsDeadLettered(bus);
    } finally {
      await bus.close();
    }
  });
});

describeWith(['rabbitmq'], 'a message newer than its consumer (RabbitMQ)', () => {
  it('goes to the dead-letter queue with that reason, after one attempt', async () => {
    const vhost = await createTestVhost('versions');
    const bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'versions-test' });
    await bus.start();
    try {
      await newerVersionIsDeadLettered(bus);
    } finally {
      await bus.close();
      await vhost.drop();
    }
  }, 60_000);
});
