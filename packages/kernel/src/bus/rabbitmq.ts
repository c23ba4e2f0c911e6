/**
 * The RabbitMQ adapter of the MessageBus port (docs/messaging.md): durable topic exchanges,
 * pipelined publisher confirms, quorum queues with manual acks after the handler, inline retries
 * then `<queue>.dlq`, partitioned consumption through a consistent-hash exchange and
 * single-active-consumer partition queues, and reconnection after any connection loss.
 *
 * By concern: rabbitmqConnection.ts (connect, reconnect, publisher confirms), rabbitmqSubscription.ts
 * (declarations, consumers per partition), delivery.ts (the delivery loop both buses share),
 * rabbitmqDeadLetters.ts (list, show, replay, discard).
 */
import type { Options } from 'amqplib';
import type { Logger } from '../log.js';
import type { ExchangeTypeNeed } from './brokerPlugins.js';
import type { RetryDefaults } from './delivery.js';
import type { BusHealth, DeadLetters, MessageBus, OutgoingMessage, Subscription, SubscriptionSpec } from './port.js';
import { RabbitMqConnection } from './rabbitmqConnection.js';
import { rabbitMqDeadLetters } from './rabbitmqDeadLetters.js';
import { AmqpSubscription, type SubscriptionHost } from './rabbitmqSubscription.js';
import { DEFAULT_BACKOFF_MS, DEFAULT_MAX_ATTEMPTS } from './retry.js';
import { validateSpecShape } from './topology.js';

export interface RabbitMqBusOptions {
  url: string;
  log: Logger;
  /** Shown as the connection name in the management UI. */
  serviceName: string;
  /** Attempts before the DLQ when a subscription does not say (default 5). */
  defaultMaxAttempts?: number;
  /** Base backoff in ms when a subscription does not say (default 100, ×4 per attempt). */
  backoffMs?: number;
  /** Queues whose dead letters the tooling should list even if this process does not consume them (the CLI). */
  deadLetterQueues?: string[];
  /** Heartbeat in seconds: how fast a silent network cut is noticed (default 5). */
  heartbeatSeconds?: number;
  /**
   * How long a publish waits for the broker's confirms before it rejects (default 10 s). A confirm that never comes
   * (a blocked connection, a queue that does not recover) must not hold the outbox relay, and with it the relay
   * lock of its database, for ever. The publish channel is then replaced; a late confirm makes a duplicate at most.
   */
  confirmTimeoutMs?: number;
  /** Type of the queues this bus declares (QUEUE_TYPE): quorum (default; replicated) or classic. */
  queueType?: 'quorum' | 'classic';
  /**
   * Exchange types this process will declare that come from broker plugins (the order service's partitions need
   * PARTITION_EXCHANGE). Checked at start: a broker without the plugin stops the start with MissingBrokerPluginError.
   */
  requiredExchangeTypes?: readonly ExchangeTypeNeed[];
}

export class RabbitMqBus implements MessageBus, SubscriptionHost {
  private readonly log: Logger;
  private readonly connection: RabbitMqConnection;
  private readonly subs = new Set<AmqpSubscription>();
  private readonly dlqQueues: Set<string>;
  readonly defaults: RetryDefaults;
  readonly queueType: 'quorum' | 'classic';
  readonly deadLetters: DeadLetters;

  constructor(o: RabbitMqBusOptions) {
    this.log = o.log.child({ component: 'rabbitmq' });
    this.queueType = o.queueType ?? 'quorum';
    if (this.queueType !== 'quorum' && this.queueType !== 'classic')
      throw new TypeError(`RabbitMqBus: queueType must be quorum or classic, got ${JSON.stringify(o.queueType)}`);
    this.defaults = {
      maxAttempts: o.defaultMaxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      backoffMs: o.backoffMs ?? DEFAULT_BACKOFF_MS,
    };
    this.connection = new RabbitMqConnection(
      { ...o, log: this.log },
      {
        connected: async (conn) => {
          for (const sub of this.subs) await sub.setup(conn);
        },
        lost: () => {
          for (const sub of this.subs) sub.connectionLost();
        },
      },
    );
    this.dlqQueues = new Set(o.deadLetterQueues ?? []);
    this.deadLetters = rabbitMqDeadLetters(this.connection, () => this.dlqQueues);
  }

  health(): BusHealth {
    return this.connection.health();
  }

  /** Connects and declares the exchanges; rejects if the broker cannot be reached at all. */
  start(): Promise<void> {
    return this.connection.start();
  }

  onAvailable(listener: () => void): () => void {
    return this.connection.onAvailable(listener);
  }

  publish(messages: readonly OutgoingMessage[]): Promise<void> {
    return this.connection.publish(messages);
  }

  sendConfirmed(queue: string, content: Buffer, options: Options.Publish): Promise<void> {
    return this.connection.sendConfirmed(queue, content, options);
  }

  consumerTrouble(): void {
    this.connection.consumerTrouble();
  }

  async subscribe(spec: SubscriptionSpec): Promise<Subscription> {
    validateSpecShape(spec);
    if (this.connection.closed) throw new Error('RabbitMQ bus is closed');
    const sub = new AmqpSubscription(spec, this, this.log);
    await sub.init();
    this.subs.add(sub);
    this.dlqQueues.add(spec.queue);
    // Disconnected now: the reconnect declares and starts it.
    const conn = this.connection.current;
    if (conn) await sub.setup(conn);
    return sub;
  }

  forget(sub: AmqpSubscription): void {
    this.subs.delete(sub);
  }

  close(): Promise<void> {
    return this.connection.close(async () => {
      for (const sub of [...this.subs]) await sub.close().catch(() => {});
    });
  }
}
