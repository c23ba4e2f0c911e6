import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, describeWith, uniqueName, waitFor } from '../../../../test/support/services.js';
import { type BusUnderTest, confirmed, runBusContract } from '../../test-fixtures/bus/bus.contract.js';
import { createLogger } from '../log.js';
import { MissingBrokerPluginError, PARTITION_EXCHANGE } from './brokerPlugins.js';
import { RabbitMqBus } from './rabbitmq.js';

const log = createLogger({ level: 'silent' });

describeWith(['rabbitmq'], 'RabbitMqBus', () => {
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  beforeAll(async () => {
    vhost = await createTestVhost('bus');
  });
  afterAll(() => vhost?.drop());
  /** Ready messages, straight from the broker (the management API's figures lag seconds behind). */
  async function depth(queue: string): Promise<number> {
    const c = await amqp.connect(vhost.url);
    try {
      const ch = await c.createChannel();
      return (await ch.checkQueue(queue)).messageCount;
    } finally {
      await c.close();
    }
  }

  /** The contract once per QUEUE_TYPE: the same guarantees on quorum and on classic queues. */
  for (const queueType of ['quorum', 'classic'] as const)
    describe(`with ${queueType} queues`, () => {
      runBusContract(async (): Promise<BusUnderTest> => {
        const bus = new RabbitMqBus({ url: vhost.url, log, serviceName: `bus-contract-${queueType}`, queueType });
        await bus.start();
        const raw = await amqp.connect(vhost.url);
        const ch = await raw.createConfirmChannel();
        return {
          bus,
          publishRaw: async (exchange, routingKey, body, messageId) => {
            ch.publish(exchange, routingKey, Buffer.from(body), { messageId, persistent: true });
            await ch.waitForConfirms();
          },
          dispose: async () => {
            await bus.close();
            await raw.close();
          },
        };
      });

      it(`declares its queues (partitions included) as ${queueType} queues`, async () => {
        const bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'typed', queueType });
        await bus.start();
        const queue = uniqueName(`typed_${queueType}`);
        const { StaticOwnership } = await import('../partitions.js');
        const plain = await bus.subscribe({
          queue,
          bindings: [{ exchange: 'order_events', routingKey: 'order.#' }],
          handler: async () => {},
        });
        const parted = await bus.subscribe({
          queue: `${queue}_parted`,
          bindings: [{ exchange: 'order_events', routingKey: 'order.#' }],
          partitions: { count: 2, ownership: new StaticOwnership(2) },
          handler: async () => {},
        });
        await plain.close();
        await parted.close();
        await bus.close();
        // Re-declaring with the same type succeeds only if the broker holds that type (RabbitMQ cannot convert).
        const raw = await amqp.connect(vhost.url);
        try {
          for (const q of [queue, `${queue}_parted.p0`, `${queue}_parted.p1`]) {
            const ch = await raw.createChannel();
            const extra = q.includes('.p') ? { 'x-single-active-consumer': true } : {};
            await ch.assertQueue(q, { durable: true, arguments: { 'x-queue-type': queueType, ...extra } });
            await ch.close();
          }
          const other = queueType === 'quorum' ? 'classic' : 'quorum';
          const ch = await raw.createChannel();
          ch.on('error', () => {});
          await expect(ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': other } })).rejects.toThrow(
            /x-queue-type/,
          );
        } finally {
          await raw.close();
        }
      });
    });

  it('refuses to consume a queue that exists with another type, naming QUEUE_TYPE', async () => {
    const queue = uniqueName('wrongtype');
    const raw = await amqp.connect(vhost.url);
    const ch = await raw.createChannel();
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
    await raw.close();
    const bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'wrongtype', queueType: 'quorum' });
    await bus.start();
    try {
      await expect(
        bus.subscribe({
          queue,
          bindings: [{ exchange: 'order_events', routingKey: 'order.#' }],
          handler: async () => {},
        }),
      ).rejects.toThrow(/exists with another type than QUEUE_TYPE=quorum/);
    } finally {
      await bus.close();
    }
  });

  it('publishes with the wire properties of SPEC §5 and keeps messages of an absent consumer in its durable queue', async () => {
    const bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'props' });
    await bus.start();
    const queue = uniqueName('props');
    const sub = await bus.subscribe({
      queue,
      bindings: [{ exchange: 'order_events', routingKey: 'order.confirmed' }],
      handler: async () => {},
    });
    await sub.close();
    const m = confirmed();
    m.traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await bus.publish([m]);
    await waitFor(async () => (await depth(queue)) === 1, { what: 'one message in the queue' });
    const raw = await amqp.connect(vhost.url);
    const ch = await raw.createChannel();
    const got = await ch.get(queue, { noAck: true });
    expect(got).not.toBe(false);
    const props = got ? got.properties : undefined;
    expect(props?.messageId).toBe(m.envelope.eventId);
    expect(props?.type).toBe('ORDER_CONFIRMED');
    expect(props?.contentType).toBe('application/json');
    expect(props?.correlationId).toBe(m.envelope.orderId);
    expect(props?.deliveryMode).toBe(2);
    expect(props?.headers?.traceparent).toBe(m.traceparent);
    await raw.close();
    await bus.close();
  });

  it('rejects a publish the broker refuses (unknown exchange) and keeps publishing afterwards', async () => {
    const bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'refused' });
    await bus.start();
    await expect(bus.publish([{ ...confirmed(), exchange: 'no_such_exchange' }])).rejects.toThrow(/not confirmed/);
    await waitFor(
      async () => {
        try {
          await bus.publish([confirmed()]);
          return true;
        } catch {
          return false;
        }
      },
      { what: 'publishing to work again' },
    );
    expect(bus.health().up).toBe(true);
    await bus.close();
    expect(bus.health()).toEqual({ up: false, detail: 'closed' });
  });

  it('declares every partition queue and binds it to the consistent-hash exchange, owned or not', async () => {
    const bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'topology' });
    await bus.start();
    const queue = uniqueName('topo');
    const { StaticOwnership } = await import('../partitions.js');
    const none = new StaticOwnership(1);
    // An ownership that owns nothing: the partitions must still exist and collect messages.
    const owned = new Set<number>();
    const sub = await bus.subscribe({
      queue,
      bindings: [{ exchange: 'order_events', routingKey: 'order.#' }],
      partitions: {
        count: 4,
        ownership: { ...none, onChange: () => {}, current: () => owned, start: async () => {}, stop: async () => {} },
      },
      handler: async () => {},
    });
    await bus.publish(Array.from({ length: 40 }, () => confirmed()));
    const depths = await waitFor(
      async () => {
        const d = await Promise.all([0, 1, 2, 3].map((p) => depth(`${queue}.p${p}`)));
        return d.reduce((a, b) => a + b, 0) === 40 ? d : undefined;
      },
      { what: '40 messages over the partition queues' },
    );
    expect(depths.filter((d) => d > 0).length).toBeGreaterThan(1);
    await sub.close();
    await bus.close();
  });
  it('stops its start with one line naming the plugin when the broker does not know an exchange type', async () => {
    // A type no broker has stands in for a disabled plugin, so the test changes nothing broker-wide.
    const bus = new RabbitMqBus({
      url: vhost.url,
      log,
      serviceName: 'plugin-check',
      requiredExchangeTypes: [{ type: 'x-commerce-no-such-type', plugin: 'rabbitmq_commerce_no_such_plugin' }],
    });
    const err = await bus.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MissingBrokerPluginError);
    expect((err as Error).message).toBe(
      'RabbitMQ does not know the exchange type x-commerce-no-such-type: enable the rabbitmq_commerce_no_such_plugin ' +
        'plugin (rabbitmq-plugins enable rabbitmq_commerce_no_such_plugin) and start again',
    );
    expect(bus.health().up).toBe(false);
    await bus.close();
    // The partitions' own exchange type is known here (CI enables the plugin), so that check passes.
    const ok = new RabbitMqBus({
      url: vhost.url,
      log,
      serviceName: 'plugin-ok',
      requiredExchangeTypes: [PARTITION_EXCHANGE],
    });
    await ok.start();
    expect(ok.health().up).toBe(true);
    await ok.close();
  });
});
