import type { BusHealth, DeadLetters, MessageBus, OutgoingMessage, Subscription } from '../src/bus/port.js';

/**
 * A MessageBus for tests of the outbox relay: publish() hands each batch to `onPublish`
 * (default: remember it in memory) and resolves when that resolves, like a broker confirm.
 * `failing = true` makes publish reject (the broker is down); `recover()` ends that and announces it.
 */
export class RecordingBus implements MessageBus {
  readonly received: OutgoingMessage[] = [];
  readonly batches: number[] = [];
  failing = false;
  publishCalls = 0;

  constructor(private readonly onPublish?: (messages: readonly OutgoingMessage[]) => Promise<void>) {}

  async start(): Promise<void> {}

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    this.publishCalls++;
    if (this.failing) throw new Error('broker unavailable (test)');
    if (this.onPublish) await this.onPublish(messages);
    this.received.push(...messages);
    this.batches.push(messages.length);
  }

  async subscribe(): Promise<Subscription> {
    throw new Error('RecordingBus only records publications');
  }

  health(): BusHealth {
    return { up: !this.failing };
  }

  private readonly availableListeners = new Set<() => void>();

  onAvailable(listener: () => void): () => void {
    this.availableListeners.add(listener);
    return () => this.availableListeners.delete(listener);
  }

  /** The broker is back: publish works again and the bus says so, as RabbitMqBus does after a reconnect. */
  recover(): void {
    this.failing = false;
    for (const listener of this.availableListeners) listener();
  }

  readonly deadLetters: DeadLetters = {
    queues: async () => [],
    list: async () => [],
    show: async () => undefined,
    replay: async () => false,
    discard: async () => false,
  };

  async close(): Promise<void> {}
}
