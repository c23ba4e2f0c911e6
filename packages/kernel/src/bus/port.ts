import type { Envelope, Exchange } from '@commerce/contracts';

/** One message to publish: the envelope goes to `exchange` with `routingKey` (SPEC §5). */
export interface OutgoingMessage {
  exchange: Exchange | string;
  routingKey: string;
  envelope: Envelope;
  /** W3C trace context of the operation that caused this message. */
  traceparent?: string;
}

export interface Delivery {
  envelope: Envelope;
  /** 1 for the first delivery; grows with every retry and redelivery. */
  attempt: number;
  /**
   * Handed out before (the broker redelivered it, or an earlier attempt here failed): it may have been handled
   * already, so the de-duplication cache is worth asking first. Absent: a first delivery.
   */
  redelivered?: boolean;
  queue: string;
  traceparent?: string;
}

export type Handler = (delivery: Delivery) => Promise<void>;

export interface Binding {
  exchange: Exchange | string;
  /** Topic pattern, e.g. `order.created` or `inventory.#`. */
  routingKey: string;
}

/** Which partitions this worker may consume now; changes as workers come and go. */
export interface PartitionOwnership {
  /** Called with the full set each time it changes; the bus starts/stops partition consumers to match. */
  onChange(cb: (owned: ReadonlySet<number>) => void): void;
  current(): ReadonlySet<number>;
  /** Before giving a partition away, the bus reports that its in-flight work is finished. */
  released?(partition: number): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface SubscriptionSpec {
  /** Durable queue name, e.g. `inventory.order_events`. */
  queue: string;
  bindings: Binding[];
  handler: Handler;
  /** Messages in flight at once for this subscription (per partition when partitioned). */
  prefetch?: number;
  /** Attempts before the dead-letter queue (default 5). */
  maxAttempts?: number;
  /** Base backoff between attempts in ms (default 100; grows ×4 with jitter). */
  backoffMs?: number;
  /**
   * Partitioned consumption: messages are spread over `count` partitions by consistent hashing of
   * `envelope.orderId`; each partition is handled by at most one worker at a time, messages of one
   * order strictly one after the other, in the order they were published.
   */
  partitions?: { count: number; ownership: PartitionOwnership };
}

export interface Subscription {
  close(): Promise<void>;
}

export interface DeadLetter {
  /** Stable id for show/replay/discard (the message id when the message had one). */
  id: string;
  queue: string;
  reason: string;
  attempts: number;
  deadLetteredAt: string;
  exchange?: string;
  routingKey?: string;
  /** The raw body as received (may not be JSON). */
  body: string;
}

/** Dead-letter tooling (SPEC §7 `commerce dlq`). */
export interface DeadLetters {
  /** Queues that have a dead-letter queue, with their depth. */
  queues(): Promise<{ queue: string; depth: number }[]>;
  list(queue: string, limit?: number): Promise<DeadLetter[]>;
  show(queue: string, id: string): Promise<DeadLetter | undefined>;
  /** Sends the message back to its queue (only that queue), keeping its message id. */
  replay(queue: string, id: string): Promise<boolean>;
  discard(queue: string, id: string): Promise<boolean>;
}

export interface BusHealth {
  up: boolean;
  detail?: string;
}

export interface MessageBus {
  /** Declares the exchanges of SPEC §5 and connects. */
  start(): Promise<void>;
  /**
   * Publishes a batch; resolves only when every message is safely with the broker (publisher
   * confirms) or, in-process, handled by every bound queue. Rejects if any is not: the caller
   * (the outbox relay) then keeps the rows and retries.
   */
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  subscribe(spec: SubscriptionSpec): Promise<Subscription>;
  health(): BusHealth;
  /**
   * Calls `listener` each time the bus can publish again after an outage (RabbitMQ: reconnected), so that a
   * publisher backing off can go on at once instead of at the end of its backoff. Returns the unsubscribe.
   * Optional: a bus that is never down (in-process) has nothing to announce.
   */
  onAvailable?(listener: () => void): () => void;
  readonly deadLetters: DeadLetters;
  close(): Promise<void>;
}
