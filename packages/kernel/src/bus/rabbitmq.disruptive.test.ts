import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, describeWith, uniqueName, waitFor } from '../../../../test/support/services.js';
import { confirmed } from '../../test-fixtures/bus/bus.contract.js';
import { createLogger } from '../log.js';
import type { OutgoingMessage } from './port.js';
import { RabbitMqBus } from './rabbitmq.js';

const run = promisify(execFile);
const log = createLogger({ level: 'silent' });
const BATCH = 20;
/** RabbitMQ's default memory watermark (the machines here run with it). */
const DEFAULT_WATERMARK = '0.4';

describeWith(['rabbitmq'], 'RabbitMqBus when the broker restarts or blocks publishers', () => {
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;
  beforeAll(async () => {
    vhost = await createTestVhost('restart');
  });
  afterAll(async () => {
    await run('rabbitmqctl', ['start_app']).catch(() => {});
    await run('rabbitmqctl', ['set_vm_memory_high_watermark', DEFAULT_WATERMARK]).catch(() => {});
    await vhost?.drop();
  });

  it('rejects a publish the broker never confirms (publishing blocked), then publishes again on a new channel', async () => {
    const bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'blocked-publisher', confirmTimeoutMs: 500 });
    await bus.start();
    const queue = uniqueName('blocked');
    const handled = new Set<string>();
    const consumer = new RabbitMqBus({ url: vhost.url, log, serviceName: 'blocked-consumer' });
    await consumer.start();
    await consumer.subscribe({
      queue,
      bindings: [{ exchange: 'order_events', routingKey: 'order.#' }],
      handler: async (d) => void handled.add(d.envelope.eventId),
    });
    try {
      // A memory watermark of 0 raises the memory alarm at once: the broker stops reading from publishers.
      await run('rabbitmqctl', ['set_vm_memory_high_watermark', '0']);
      const started = Date.now();
      await expect(bus.publish([confirmed()])).rejects.toThrow(/not confirmed by RabbitMQ within 500 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await run('rabbitmqctl', ['set_vm_memory_high_watermark', DEFAULT_WATERMARK]);
    }
    // Unblocked: the channel was replaced and publishing works again; what was refused is published again.
    const again = confirmed();
    await waitFor(
      async () =>
        bus.publish([again]).then(
          () => true,
          () => false,
        ),
      { what: 'a confirmed publish after the alarm cleared', timeoutMs: 30_000 },
    );
    await waitFor(() => handled.has(again.envelope.eventId), { what: 'the message handled' });
    await bus.close();
    await consumer.close();
  }, 60_000);

  it('delivers every message published before, during (retried) and after the outage; none lost', async () => {
    const publisher = new RabbitMqBus({ url: vhost.url, log, serviceName: 'restart-publisher' });
    const consumer = new RabbitMqBus({ url: vhost.url, log, serviceName: 'restart-consumer' });
    await publisher.start();
    await consumer.start();
    let announced = 0;
    publisher.onAvailable(() => announced++);
    const handled = new Set<string>();
    await consumer.subscribe({
      queue: uniqueName('restart'),
      bindings: [{ exchange: 'order_events', routingKey: 'order.#' }],
      handler: async (d) => void handled.add(d.envelope.eventId),
    });

    const published: string[] = [];
    let failedPublishes = 0;
    let sawDown = false;
    let outage: 'before' | 'during' | 'after' = 'before';
    const phase = { before: 0, during: 0, after: 0 };
    // The outbox relay's behaviour: keep the batch until the broker confirmed it, retry with a pause.
    const publishing = (async () => {
      while (outage !== 'after' || phase.after < 200) {
        const batch: OutgoingMessage[] = Array.from({ length: BATCH }, () => confirmed());
        for (;;) {
          try {
            await publisher.publish(batch);
            break;
          } catch {
            failedPublishes++;
            if (!publisher.health().up) sawDown = true;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        for (const m of batch) published.push(m.envelope.eventId);
        phase[outage] += batch.length;
        await new Promise((r) => setTimeout(r, 10)); // a steady publishing rate, not a wait for a condition
      }
    })();

    await waitFor(() => published.length >= 100, { what: 'messages published before the outage' });
    outage = 'during';
    await run('rabbitmqctl', ['stop_app']);
    await waitFor(() => !publisher.health().up && !consumer.health().up, { what: 'both buses to notice' });
    const downDetail = consumer.health().detail;
    expect(downDetail).toMatch(/closed|unreachable/);
    await waitFor(() => failedPublishes > 0, { what: 'a publish to be refused while down' });
    await run('rabbitmqctl', ['start_app']);
    await waitFor(() => publisher.health().up && consumer.health().up, {
      what: 'both buses to reconnect',
      timeoutMs: 40_000,
    });
    // The reconnect is announced (the outbox relay ends its backoff on it), once.
    expect(announced).toBe(1);
    outage = 'after';
    await publishing;
    await waitFor(() => published.every((id) => handled.has(id)), {
      what: `all ${published.length} messages handled (have ${handled.size})`,
      timeoutMs: 30_000,
    });
    expect(handled.size).toBe(published.length);
    expect(phase.during).toBeGreaterThan(0);
    expect(sawDown).toBe(true);
    expect(phase.before).toBeGreaterThan(0);
    expect(phase.after).toBeGreaterThan(0);
    console.info(`broker restart: ${failedPublishes} refused publishes retried, phases ${JSON.stringify(phase)}`);
    await publisher.close();
    await consumer.close();
  }, 90_000);
});
