/**
 * The in-process message bus of the embedded default: the topology of the RabbitMQ adapter in
 * memory, with the same retries, dead letters and per-order order. `publish` resolves only when
 * every bound queue has handled or dead-lettered the message, so the outbox marks its row only
 * after delivery and a crash loses nothing (the row is published again).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import { partitionOf } from '../partitions.js';
import { type DeadLetterStore, MemoryDeadLetterStore } from './deadLetterStore.js';
import { DeliveryLoop, type RetryDefaults } from './delivery.js';
import { KeyedSerial, Semaphore } from './keyedSerial.js';
import type {
  BusHealth,
  DeadLetter,
  DeadLetters,
  MessageBus,
  OutgoingMessage,
  Subscription,
  SubscriptionSpec,
} from './port.js';
import { DEFAULT_BACKOFF_MS, DEFAULT_MAX_ATTEMPTS, errorMessage } from './retry.js';
import { partitionQueueOf, topicMatches, validateSpecShape } from './topology.js';

export interface InProcessBusOptions {
  log: Logger;
  deadLetterStore?: DeadLetterStore;
  defaultMaxAttempts?: number;
  defaultBackoffMs?: number;
}

interface RawMessage {
  exchange: string;
  routingKey: string;
  body: string;
  messageId?: string;
  traceparent?: string;
}

const DEFAULT_PREFETCH = 16;

class LocalQueue {
  private readonly serial = new KeyedSerial();
  private readonly slots: Semaphore[];
  private readonly loop: DeliveryLoop;
  closed = false;

  constructor(
    readonly spec: SubscriptionSpec,
    private readonly store: DeadLetterStore,
    log: Logger,
    defaults: RetryDefaults,
  ) {
    this.loop = new DeliveryLoop(spec, defaults, log);
    const n = spec.partitions?.count ?? 1;
    this.slots = Array.from({ length: n }, () => new Semaphore(spec.prefetch ?? DEFAULT_PREFETCH));
  }

  routes(exchange: string, routingKey: string): boolean {
    return this.spec.bindings.some((b) => b.exchange === exchange && topicMatches(b.routingKey, routingKey));
  }

  /** Resolves once the message is handled or dead-lettered; rejects if the dead letter could not be stored or the
   * subscription closed first (the outbox then keeps the row and publishes it again after the restart). */
  deliver(msg: RawMessage): Promise<void> {
    const { partitions, queue } = this.spec;
    const partition = (orderId: string) => (partitions ? partitionOf(orderId, partitions.count) : 0);
    return this.loop.deliver(
      { body: msg.body, messageId: msg.messageId, traceparent: msg.traceparent, earlierDeliveries: 0 },
      {
        queueOf: (envelope) => (partitions ? partitionQueueOf(queue, partition(envelope.orderId)) : queue),
        inOrder: (envelope, work) =>
          this.serial.run(envelope.orderId, async () => {
            const release = await (this.slots[partition(envelope.orderId)] as Semaphore).acquire();
            try {
              await work();
            } finally {
              release();
            }
          }),
        mayHold: () => !this.closed,
        giveBack: () => {
          throw new Error(`in-process bus closed while ${queue} held a message`);
        },
        handled: () => {},
        deadLetter: (reason, attempts) =>
          this.store.add({
            id: msg.messageId ?? randomUUID(),
            queue,
            reason,
            attempts,
            deadLetteredAt: new Date().toISOString(),
            exchange: msg.exchange,
            routingKey: msg.routingKey,
            body: msg.body,
          }),
      },
    );
  }

  idle(): Promise<void> {
    return this.serial.idle();
  }
}

export class InProcessBus implements MessageBus {
  private readonly log: Logger;
  private readonly store: DeadLetterStore;
  private readonly queues = new Map<string, LocalQueue>();
  private readonly defaults: RetryDefaults;
  private closed = false;
  readonly deadLetters: DeadLetters;

  constructor(o: InProcessBusOptions) {
    this.log = o.log;
    this.store = o.deadLetterStore ?? new MemoryDeadLetterStore();
    this.defaults = {
      maxAttempts: o.defaultMaxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      backoffMs: o.defaultBackoffMs ?? DEFAULT_BACKOFF_MS,
    };
    this.deadLetters = this.makeDeadLetters();
  }

  async start(): Promise<void> {}

  health(): BusHealth {
    return this.closed ? { up: false, detail: 'in-process bus closed' } : { up: true };
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const raws = messages.map((m) => ({
      exchange: m.exchange,
      routingKey: m.routingKey,
      body: JSON.stringify(m.envelope),
      messageId: m.envelope.eventId,
      traceparent: m.traceparent,
    }));
    await this.route(raws);
  }

  /** Publishes bytes as they are (tooling, and tests of poison messages). */
  async publishRaw(exchange: string, routingKey: string, body: string, messageId?: string): Promise<void> {
    await this.route([{ exchange, routingKey, body, messageId }]);
  }

  private async route(raws: RawMessage[]): Promise<void> {
    if (this.closed) throw new Error('in-process bus is closed');
    // Every delivery is queued synchronously, in batch order, before any of them runs: per-order order.
    const pending: Promise<void>[] = [];
    for (const raw of raws)
      for (const q of this.queues.values()) if (q.routes(raw.exchange, raw.routingKey)) pending.push(q.deliver(raw));
    const results = await Promise.allSettled(pending);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new Error(`in-process delivery failed: ${errorMessage(failed.reason)}`);
  }

  async subscribe(spec: SubscriptionSpec): Promise<Subscription> {
    validateSpecShape(spec);
    if (this.closed) throw new Error('in-process bus is closed');
    if (this.queues.has(spec.queue)) throw new Error(`subscribe: queue ${spec.queue} already has a subscriber`);
    const q = new LocalQueue(spec, this.store, this.log, this.defaults);
    await spec.partitions?.ownership.start();
    this.queues.set(spec.queue, q);
    let closing: Promise<void> | undefined;
    return {
      close: () => {
        closing ??= (async () => {
          if (this.queues.get(spec.queue) === q) this.queues.delete(spec.queue);
          q.closed = true;
          await q.idle();
          await spec.partitions?.ownership.stop();
        })();
        return closing;
      },
    };
  }

  private makeDeadLetters(): DeadLetters {
    return {
      queues: async () => {
        const depths = await this.store.depths();
        for (const name of this.queues.keys()) if (!depths.has(name)) depths.set(name, 0);
        return [...depths].map(([queue, depth]) => ({ queue, depth })).sort((a, b) => a.queue.localeCompare(b.queue));
      },
      list: (queue, limit) => this.store.list(queue, limit),
      show: (queue, id) => this.store.get(queue, id),
      replay: async (queue, id) => {
        const dl: DeadLetter | undefined = await this.store.get(queue, id);
        const q = this.queues.get(queue);
        if (!dl || !q) return false;
        await this.store.remove(queue, id);
        // Back to this queue only; if it fails again it is dead-lettered again under the same id.
        await q.deliver({
          exchange: dl.exchange ?? '',
          routingKey: dl.routingKey ?? '',
          body: dl.body,
          messageId: dl.id,
        });
        return true;
      },
      discard: (queue, id) => this.store.remove(queue, id),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const queues = [...this.queues.values()];
    this.queues.clear();
    // Messages still held (waiting out a database outage) are given back rather than keeping close waiting.
    for (const q of queues) q.closed = true;
    await Promise.all(queues.map((q) => q.idle()));
    await Promise.all(queues.map((q) => q.spec.partitions?.ownership.stop()));
  }
}
