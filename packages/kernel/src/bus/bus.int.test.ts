import amqp from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, describeWith, uniqueName, waitFor } from '../../../../test/support/services.js';
import { type BusUnderTest, confirmed, runBusContract } from '../../test-fixtures/bus/bus.contract.js';
import { createLogger } from '../log.js';
import { coalesceWrites, RabbitMqBus } from './rabbitmq.js';

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

  runBusContract(async (): Promise<BusUnderTest> => {
    const bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'bus-contract' });
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
  it('sends the frames of publishes issued together in one socket write, and the broker confirms every one', async () => {
    /** Socket writes (system calls) while `n` messages are published in one go on a fresh connection. */
    async function socketWrites(coalesce: boolean, n: number): Promise<number> {
      const conn = await amqp.connect(vhost.url);
      try {
        if (coalesce) coalesceWrites(conn);
        const ch = await conn.createConfirmChannel();
        const queue = uniqueName('coalesce');
        await ch.assertQueue(queue, { durable: false, autoDelete: true });
        type Write = (...args: unknown[]) => unknown;
        const socket = (conn as unknown as { connection: { stream: { _write: Write; _writev: Write } } }).connection
          .stream;
        let writes = 0;
        for (const m of ['_write', '_writev'] as const) {
          const original = socket[m];
          socket[m] = function (this: unknown, ...args: unknown[]) {
            writes++;
            return original.apply(this, args);
          };
        }
        for (let i = 0; i < n; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`));
        await ch.waitForConfirms();
        const sent = writes;
        expect((await ch.checkQueue(queue)).messageCount).toBe(n);
        return sent;
      } finally {
        await conn.close();
      }
    }
    expect(await socketWrites(false, 20)).toBe(20);
    expect(await socketWrites(true, 20)).toBe(1);
  });
});
