/**
 * A subscription on RabbitMQ (docs/messaging.md "Partitioned consumption"): declares its queue, or its
 * consistent-hash exchange and partition queues, and its `<queue>.dlq`; keeps one consumer per owned partition,
 * started and stopped as ownership changes (reconciliation), across reconnects; and hands each message to the
 * shared delivery loop (delivery.ts), acking only after the handler or the dead letter.
 */
import { randomUUID } from 'node:crypto';
import { EXCHANGES } from '@commerce/contracts';
import type { Channel, ChannelModel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from '../log.js';
import { PARTITION_EXCHANGE } from './brokerPlugins.js';
import { DeliveryLoop, type RetryDefaults } from './delivery.js';
import { KeyedSerial } from './keyedSerial.js';
import type { Subscription, SubscriptionSpec } from './port.js';
import { errorMessage, sleep } from './retry.js';
import { DLQ_HEADERS, deadLetterQueueOf, partitionQueueOf } from './topology.js';

/** What a subscription needs of the bus that made it. */
export interface SubscriptionHost {
  readonly defaults: RetryDefaults;
  /** QUEUE_TYPE: the type of the queues a subscription declares. */
  readonly queueType: 'quorum' | 'classic';
  sendConfirmed(queue: string, content: Buffer, options: Options.Publish): Promise<void>;
  /** A consumer could not be (re)started on a live connection. */
  consumerTrouble(): void;
  /** The subscription is closed: forget it. */
  forget(sub: AmqpSubscription): void;
}

const DEFAULT_PREFETCH = 16;
/** Marks a subscription-less partition in the per-partition maps. */
const WHOLE_QUEUE = -1;

interface ConsumerState {
  partition: number;
  queue: string;
  ch: Channel;
  tag?: string;
  /** Giving the partition up: queued messages are nack-requeued instead of handled. */
  stopping: boolean;
  /** The channel is gone: nothing can be acked on it any more. */
  dead: boolean;
}

/** Declares a durable queue; a queue that exists with another type fails naming QUEUE_TYPE (RabbitMQ cannot convert). */
async function assertTypedQueue(ch: Channel, queue: string, args: Record<string, unknown>): Promise<void> {
  try {
    await ch.assertQueue(queue, { durable: true, arguments: args });
  } catch (err) {
    const text = errorMessage(err);
    if (/inequivalent arg 'x-queue-type'/.test(text))
      throw new Error(
        `queue ${queue} exists with another type than QUEUE_TYPE=${String(args['x-queue-type'])}: drain and delete it (or set QUEUE_TYPE to its type); RabbitMQ said: ${text}`,
      );
    throw err;
  }
}

export class AmqpSubscription implements Subscription {
  private readonly serial = new KeyedSerial();
  private readonly consumers = new Map<number, ConsumerState>();
  /** Handlers in flight per partition, across channels (a handler outlives a lost channel). */
  private readonly inflight = new Map<number, Set<Promise<void>>>();
  private desired: ReadonlySet<number>;
  private reconcileChain: Promise<void> = Promise.resolve();
  private conn: ChannelModel | undefined;
  private closed = false;
  private readonly loop: DeliveryLoop;
  private readonly prefetch: number;

  constructor(
    readonly spec: SubscriptionSpec,
    private readonly bus: SubscriptionHost,
    private readonly log: Logger,
  ) {
    this.loop = new DeliveryLoop(spec, bus.defaults, log);
    this.prefetch = spec.prefetch ?? DEFAULT_PREFETCH;
    this.desired = spec.partitions ? new Set() : new Set([WHOLE_QUEUE]);
    spec.partitions?.ownership.onChange((owned) => {
      this.desired = new Set(owned);
      this.reconcile();
    });
  }

  async init(): Promise<void> {
    const ownership = this.spec.partitions?.ownership;
    if (ownership) {
      await ownership.start();
      this.desired = new Set(ownership.current());
    }
  }

  /** Declares this subscription's queues and bindings and starts the consumers it owns. */
  async setup(conn: ChannelModel): Promise<void> {
    if (this.closed) return;
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    const typed = { 'x-queue-type': this.bus.queueType };
    try {
      const { queue, bindings, partitions } = this.spec;
      for (const b of bindings)
        if (!(EXCHANGES as readonly string[]).includes(b.exchange))
          await ch.assertExchange(b.exchange, 'topic', { durable: true });
      if (partitions) {
        await ch.assertExchange(queue, PARTITION_EXCHANGE.type, {
          durable: true,
          arguments: { 'hash-property': 'correlation_id' },
        });
        for (const b of bindings) await ch.bindExchange(queue, b.exchange, b.routingKey);
        // Every partition exists and is bound whether or not this worker owns it: nothing is unroutable.
        for (let p = 0; p < partitions.count; p++) {
          const pq = partitionQueueOf(queue, p);
          await assertTypedQueue(ch, pq, { ...typed, 'x-single-active-consumer': true });
          await ch.bindQueue(pq, queue, '1');
        }
      } else {
        await assertTypedQueue(ch, queue, typed);
        for (const b of bindings) await ch.bindQueue(queue, b.exchange, b.routingKey);
      }
      await ch.assertQueue(deadLetterQueueOf(queue), { durable: true });
    } finally {
      await ch.close().catch(() => {});
    }
    this.conn = conn;
    this.reconcile();
    await this.reconcileChain;
  }

  /** The connection is gone: every consumer with it; in-flight handlers finish but cannot ack. */
  connectionLost(): void {
    this.conn = undefined;
    for (const c of this.consumers.values()) c.dead = true;
    this.consumers.clear();
  }

  private reconcile(): void {
    this.reconcileChain = this.reconcileChain
      .then(async () => {
        if (this.closed) return;
        for (const p of [...this.consumers.keys()]) if (!this.desired.has(p)) await this.stopConsumer(p, true);
        // Partitions given up while disconnected: wait for their handlers, then hand them over.
        if (this.spec.partitions)
          for (const p of [...this.inflight.keys()])
            if (!this.desired.has(p) && !this.consumers.has(p)) await this.drain(p, true);
        // A partition this worker was given and lost again before it ever consumed it (ownership moves while the
        // chain was busy draining) has nothing to drain: say so, or its lease is held for ever and nobody consumes it.
        const partitions = this.spec.partitions;
        if (partitions)
          for (let p = 0; p < partitions.count; p++)
            if (!this.desired.has(p) && !this.consumers.has(p) && !this.inflight.has(p))
              partitions.ownership.released?.(p);
        const conn = this.conn;
        if (!conn) return;
        for (const p of this.desired) if (!this.consumers.has(p)) await this.startConsumer(conn, p);
      })
      .catch((err) => {
        this.log.warn({ queue: this.spec.queue, err: errorMessage(err) }, 'consumer reconcile failed; will retry');
        this.bus.consumerTrouble();
      });
  }

  private async drain(p: number, release: boolean): Promise<void> {
    const set = this.inflight.get(p);
    if (set) await Promise.allSettled([...set]);
    this.inflight.delete(p);
    if (release && this.spec.partitions && !this.desired.has(p)) this.spec.partitions.ownership.released?.(p);
  }

  private async startConsumer(conn: ChannelModel, p: number): Promise<void> {
    const queue = p === WHOLE_QUEUE ? this.spec.queue : partitionQueueOf(this.spec.queue, p);
    const ch = await conn.createChannel();
    const state: ConsumerState = { partition: p, queue, ch, stopping: false, dead: false };
    ch.on('error', (err) => this.log.warn({ queue, err: errorMessage(err) }, 'consumer channel error'));
    ch.on('close', () => {
      state.dead = true;
      if (this.consumers.get(p) === state) {
        // The channel died on its own (the connection is still there): start it again.
        this.consumers.delete(p);
        if (!this.closed && !state.stopping) setTimeout(() => this.reconcile(), 500).unref();
      }
    });
    this.consumers.set(p, state);
    await ch.prefetch(this.prefetch);
    const ok = await ch.consume(queue, (msg) => {
      if (msg === null) {
        // Cancelled by the broker (queue deleted or failed over): resubscribe.
        this.log.warn({ queue }, 'consumer cancelled by the broker');
        if (this.consumers.get(p) === state) this.consumers.delete(p);
        ch.close().catch(() => {});
        setTimeout(() => this.reconcile(), 500).unref();
        return;
      }
      this.track(p, this.onMessage(state, msg));
    });
    state.tag = ok.consumerTag;
    this.log.debug({ queue }, 'consuming');
  }

  private track(p: number, work: Promise<void>): void {
    let set = this.inflight.get(p);
    if (!set) {
      set = new Set();
      this.inflight.set(p, set);
    }
    const tracked = work.catch((err) =>
      this.log.error({ queue: this.spec.queue, err: errorMessage(err) }, 'message handling failed unexpectedly'),
    );
    set.add(tracked);
    void tracked.finally(() => set.delete(tracked));
  }

  /** Cancel, let running handlers finish and ack, nack-requeue the queued rest, close, then hand over. */
  private async stopConsumer(p: number, release: boolean): Promise<void> {
    const state = this.consumers.get(p);
    if (!state) return;
    state.stopping = true;
    if (state.tag) await state.ch.cancel(state.tag).catch(() => {});
    await this.drain(p, false);
    this.consumers.delete(p);
    await state.ch.close().catch(() => {});
    if (release && this.spec.partitions && !this.desired.has(p)) this.spec.partitions.ownership.released?.(p);
  }

  private ack(state: ConsumerState, msg: ConsumeMessage): void {
    if (state.dead) return;
    try {
      state.ch.ack(msg);
    } catch {
      // Channel gone: the broker redelivers; the inbox makes the second handling a no-op.
    }
  }

  private requeue(state: ConsumerState, msg: ConsumeMessage): void {
    if (state.dead) return;
    try {
      state.ch.nack(msg, false, true);
    } catch {}
  }

  private onMessage(state: ConsumerState, msg: ConsumeMessage): Promise<void> {
    const headers = msg.properties.headers ?? {};
    return this.loop.deliver(
      {
        body: msg.content,
        messageId: msg.properties.messageId,
        traceparent: typeof headers.traceparent === 'string' ? headers.traceparent : undefined,
        earlierDeliveries: Number(headers['x-delivery-count'] ?? 0) || 0,
        redelivered: msg.fields.redelivered,
      },
      {
        queueOf: () => state.queue,
        inOrder: (envelope, work) => this.serial.run(envelope.orderId, work),
        // Channel gone, or handing the partition over: the next consumer retries it (the broker counts it).
        mayHold: () => !state.dead && !state.stopping,
        giveBack: () => this.requeue(state, msg),
        handled: () => this.ack(state, msg),
        deadLetter: (reason, attempts) => this.deadLetterAndAck(state, msg, reason, attempts),
      },
    );
  }

  private async deadLetterAndAck(state: ConsumerState, msg: ConsumeMessage, reason: string, attempts: number) {
    const { properties: props, fields } = msg;
    const headers = { ...(props.headers ?? {}) };
    delete headers['x-delivery-count'];
    try {
      await this.bus.sendConfirmed(deadLetterQueueOf(this.spec.queue), msg.content, {
        persistent: true,
        messageId: props.messageId ?? randomUUID(),
        type: props.type,
        contentType: props.contentType,
        correlationId: props.correlationId,
        timestamp: props.timestamp,
        headers: {
          ...headers,
          [DLQ_HEADERS.error]: reason,
          [DLQ_HEADERS.attempts]: attempts,
          [DLQ_HEADERS.exchange]: fields.exchange,
          [DLQ_HEADERS.routingKey]: fields.routingKey,
          [DLQ_HEADERS.queue]: state.queue,
          [DLQ_HEADERS.at]: new Date().toISOString(),
        },
      });
      this.ack(state, msg);
    } catch (err) {
      // Not safely in the DLQ: keep the message in its queue and try again later.
      this.log.warn({ queue: state.queue, err: errorMessage(err) }, 'dead-lettering failed; requeueing');
      await sleep(this.loop.backoffMs);
      this.requeue(state, msg);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.desired = new Set();
    await this.reconcileChain;
    this.closed = true;
    for (const p of [...this.consumers.keys()]) await this.stopConsumer(p, false);
    for (const p of [...this.inflight.keys()]) await this.drain(p, false);
    await this.spec.partitions?.ownership.stop();
    this.bus.forget(this);
  }
}
