import type { BusHealth, DeadLetters, MessageBus, OutgoingMessage, Subscription } from '../src/bus/port.js';

/**
 * A MessageBus for tests of the outbox relay: publish() hands each batch to `onPublish`
 * (default: remember it in memory) and resolves when that resolves, like a broker confirm.
 * `failing = true` makes publish reject (the broker is down).
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

  readonly deadLetters: DeadLetters = {
    queues: async () => [],
    list: async () => [],
    show: async () => undefined,
    replay: async () => false,
    discard: async () => false,
  };

  async close(): Promise<void> {}
}
