/**
 * The RabbitMQ adapter of the MessageBus port (docs/messaging.md): durable topic exchanges,
 * pipelined publisher confirms, quorum queues with manual acks after the handler, inline retries
 * then `<queue>.dlq`, partitioned consumption through a consistent-hash exchange and
 * single-active-consumer partition queues, and reconnection after any connection loss.
 */
import { randomUUID } from 'node:crypto';
import { InvalidMessageError, parseEnvelope } from '@commerce/contracts';
import amqp, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type GetMessage,
  type Options,
} from 'amqplib';
import { isDatabaseUnavailable } from '../db/port.js';
import type { Logger } from '../log.js';
import { endSpan, runInSpan, startSpan } from '../tracing.js';
import { type ExchangeTypeNeed, PARTITION_EXCHANGE, requireExchangeTypes } from './brokerPlugins.js';
import { KeyedSerial } from './keyedSerial.js';
import type {
  BusHealth,
  DeadLetter,
  DeadLetters,
  MessageBus,
  OutgoingMessage,
  Subscription,
  SubscriptionSpec,
} from './port.js';
import { backoffDelay, DEFAULT_BACKOFF_MS, DEFAULT_MAX_ATTEMPTS, errorMessage, outageDelay, sleep } from './retry.js';
import { DLQ_HEADERS, deadLetterQueueOf, EXCHANGES, partitionQueueOf, validateSpecShape } from './topology.js';

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
  /**
   * Exchange types this process will declare that come from broker plugins (the order service's partitions need
   * PARTITION_EXCHANGE). Checked at start: a broker without the plugin stops the start with MissingBrokerPluginError.
   */
  requiredExchangeTypes?: readonly ExchangeTypeNeed[];
}

const DEFAULT_PREFETCH = 16;
const QUORUM = { 'x-queue-type': 'quorum' };
/** Marks a subscription-less partition in the per-partition maps. */
const WHOLE_QUEUE = -1;

function withHeartbeat(url: string, seconds: number): string {
  try {
    const u = new URL(url);
    if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
    return u.toString();
  } catch {
    throw new Error('AMQP_URL is not a valid URL (expected amqp://user:pass@host:5672/vhost)');
  }
}

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

class AmqpSubscription implements Subscription {
  private readonly serial = new KeyedSerial();
  private readonly consumers = new Map<number, ConsumerState>();
  /** Handlers in flight per partition, across channels (a handler outlives a lost channel). */
  private readonly inflight = new Map<number, Set<Promise<void>>>();
  private desired: ReadonlySet<number>;
  private reconcileChain: Promise<void> = Promise.resolve();
  private conn: ChannelModel | undefined;
  private closed = false;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly prefetch: number;

  constructor(
    readonly spec: SubscriptionSpec,
    private readonly bus: RabbitMqBus,
    private readonly log: Logger,
  ) {
    this.maxAttempts = spec.maxAttempts ?? bus.defaultMaxAttempts;
    this.backoffMs = spec.backoffMs ?? bus.defaultBackoffMs;
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
          await ch.assertQueue(pq, { durable: true, arguments: { ...QUORUM, 'x-single-active-consumer': true } });
          await ch.bindQueue(pq, queue, '1');
        }
      } else {
        await ch.assertQueue(queue, { durable: true, arguments: QUORUM });
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

  private async onMessage(state: ConsumerState, msg: ConsumeMessage): Promise<void> {
    const headers = msg.properties.headers ?? {};
    const redeliveries = Number(headers['x-delivery-count'] ?? 0) || 0;
    let envelope: ReturnType<typeof parseEnvelope>;
    try {
      envelope = parseEnvelope(msg.content);
    } catch (err) {
      const reason = err instanceof InvalidMessageError ? err.message : `unreadable message: ${errorMessage(err)}`;
      this.log.warn({ queue: state.queue, messageId: msg.properties.messageId, reason }, 'invalid message');
      await this.deadLetterAndAck(state, msg, reason, redeliveries + 1);
      return;
    }
    const traceparent = typeof headers.traceparent === 'string' ? headers.traceparent : undefined;
    // The whole handling (retries, dead-lettering) continues the message's trace (tracing.ts).
    const span = startSpan(`consume ${state.queue}`, {
      parent: traceparent,
      kind: 'consumer',
      attributes: { 'messaging.destination': state.queue, 'messaging.message.id': envelope.eventId },
    });
    await this.serial.run(envelope.orderId, () =>
      runInSpan(span, async () => {
        if (state.dead) return;
        if (state.stopping) return this.requeue(state, msg);
        let lastError = '';
        let attempt = redeliveries + 1;
        let outages = 0;
        for (;;) {
          try {
            await this.spec.handler({ envelope, attempt, queue: state.queue, traceparent });
            this.ack(state, msg);
            this.log.debug(
              { queue: state.queue, eventType: envelope.eventType, orderId: envelope.orderId, attempt },
              'message handled',
            );
            endSpan(span);
            return;
          } catch (err) {
            lastError = errorMessage(err);
            if (isDatabaseUnavailable(err)) {
              // Not the message's fault: hold it and try again, without using up an attempt.
              outages++;
              this.log.warn(
                { queue: state.queue, messageId: envelope.eventId, outages, err: lastError },
                'dependency unavailable; retrying without counting an attempt',
              );
              await sleep(outageDelay(outages, this.backoffMs));
              if (state.dead) return;
              if (state.stopping) return this.requeue(state, msg);
              continue;
            }
            const final = attempt >= this.maxAttempts;
            this.log.warn(
              { queue: state.queue, messageId: envelope.eventId, attempt, err: lastError },
              final ? 'handler failed; dead-lettering' : 'handler failed; retrying',
            );
            if (final) break;
            await sleep(backoffDelay(attempt, this.backoffMs));
            if (state.dead) return;
            // Handing the partition over: the next owner retries it (the broker counts the redelivery).
            if (state.stopping) return this.requeue(state, msg);
            attempt++;
          }
        }
        await this.deadLetterAndAck(state, msg, lastError, attempt);
        endSpan(span, lastError);
      }),
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
      await sleep(this.backoffMs);
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

export class RabbitMqBus implements MessageBus {
  private readonly url: string;
  private readonly log: Logger;
  readonly defaultMaxAttempts: number;
  readonly defaultBackoffMs: number;
  private readonly confirmTimeoutMs: number;
  private conn: ChannelModel | undefined;
  private pub: ConfirmChannel | undefined;
  private up = false;
  private detail = 'not started';
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private readonly subs = new Set<AmqpSubscription>();
  private readonly availableListeners = new Set<() => void>();
  private readonly dlqQueues: Set<string>;
  readonly deadLetters: DeadLetters;

  constructor(private readonly o: RabbitMqBusOptions) {
    this.url = withHeartbeat(o.url, o.heartbeatSeconds ?? 5);
    this.log = o.log.child({ component: 'rabbitmq' });
    this.defaultMaxAttempts = o.defaultMaxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.defaultBackoffMs = o.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.confirmTimeoutMs = o.confirmTimeoutMs ?? 10_000;
    this.dlqQueues = new Set(o.deadLetterQueues ?? []);
    this.deadLetters = this.makeDeadLetters();
  }

  health(): BusHealth {
    return this.up ? { up: true } : { up: false, detail: this.detail };
  }

  /** Connects and declares the exchanges; rejects if the broker cannot be reached at all. */
  async start(): Promise<void> {
    if (this.conn) return;
    this.closing = false;
    await requireExchangeTypes(this.url, this.o.requiredExchangeTypes ?? []);
    await this.connect();
  }

  private async connect(): Promise<void> {
    // Nagle's algorithm delays small frames ~40 ms per round trip: noDelay.
    const conn = await amqp.connect(this.url, {
      noDelay: true,
      clientProperties: { connection_name: this.o.serviceName },
    });
    conn.on('error', (err) => this.log.warn({ err: errorMessage(err) }, 'RabbitMQ connection error'));
    conn.on('close', () => this.connectionLost(conn, 'RabbitMQ connection closed'));
    try {
      this.conn = conn;
      await this.openPublisher(conn);
      for (const sub of this.subs) await sub.setup(conn);
    } catch (err) {
      this.conn = undefined;
      await conn.close().catch(() => {});
      throw err;
    }
    if (this.conn !== conn) throw new Error('RabbitMQ connection lost while setting up');
    this.up = true;
    this.detail = '';
    this.reconnectAttempt = 0;
    this.log.info('connected to RabbitMQ');
    for (const listener of this.availableListeners) {
      try {
        listener();
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'bus availability listener failed');
      }
    }
  }

  onAvailable(listener: () => void): () => void {
    this.availableListeners.add(listener);
    return () => this.availableListeners.delete(listener);
  }

  private async openPublisher(conn: ChannelModel): Promise<void> {
    const pub = await conn.createConfirmChannel();
    pub.on('error', (err) => this.log.warn({ err: errorMessage(err) }, 'publish channel error'));
    pub.on('close', () => {
      if (this.pub !== pub) return;
      this.pub = undefined;
      // Closed on its own (e.g. a publish to a missing exchange): a new one, same connection.
      if (this.conn === conn && !this.closing)
        this.openPublisher(conn).catch((err) => {
          this.log.warn({ err: errorMessage(err) }, 'could not reopen publish channel');
          conn.close().catch(() => {});
        });
    });
    for (const ex of EXCHANGES) await pub.assertExchange(ex, 'topic', { durable: true });
    this.pub = pub;
  }

  private connectionLost(conn: ChannelModel, reason: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.pub = undefined;
    this.up = false;
    this.detail = reason;
    for (const sub of this.subs) sub.connectionLost();
    if (this.closing) return;
    this.log.warn('RabbitMQ connection lost; reconnecting');
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const delay = Math.min(5_000, 200 * 2 ** this.reconnectAttempt) * (0.75 + Math.random() / 2);
    this.reconnectAttempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.closing || this.conn) return;
      this.connect().catch((err) => {
        this.detail = `RabbitMQ unreachable: ${errorMessage(err)}`;
        this.scheduleReconnect();
      });
    }, delay);
  }

  /** A consumer could not be (re)started on a live connection: reconnecting re-declares everything. */
  consumerTrouble(): void {
    const conn = this.conn;
    if (conn && !this.closing) setTimeout(() => conn.close().catch(() => {}), 1000).unref();
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    const pub = this.pub;
    if (!this.up || !pub) throw new Error(`RabbitMQ unavailable: ${this.detail || 'no publish channel'}`);
    // Pipelined: send all, then wait for all the confirms.
    const confirms = messages.map(
      (m) =>
        new Promise<void>((resolve, reject) => {
          try {
            pub.publish(
              m.exchange,
              m.routingKey,
              Buffer.from(JSON.stringify(m.envelope)),
              {
                persistent: true,
                messageId: m.envelope.eventId,
                type: m.envelope.eventType,
                contentType: 'application/json',
                correlationId: m.envelope.orderId,
                timestamp: Math.floor(Date.now() / 1000),
                headers: m.traceparent ? { traceparent: m.traceparent } : {},
              },
              (err) => (err ? reject(err) : resolve()),
            );
          } catch (err) {
            reject(err);
          }
        }),
    );
    const results = await this.confirmedInTime(pub, Promise.allSettled(confirms), messages.length);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length > 0)
      throw new Error(
        `${failed.length} of ${messages.length} messages not confirmed by RabbitMQ: ${errorMessage(failed[0]?.reason)}`,
      );
  }

  /**
   * Waits for `confirms`, at most confirmTimeoutMs. Past it the channel is closed (its 'close' handler opens a new
   * one) and the wait rejects: whoever published keeps the messages and tries again.
   */
  private confirmedInTime<T>(pub: ConfirmChannel, confirms: Promise<T>, count: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.log.warn(
          { messages: count, ms: this.confirmTimeoutMs },
          'RabbitMQ confirms overdue; replacing the channel',
        );
        pub.close().catch(() => {});
        reject(new Error(`${count} messages not confirmed by RabbitMQ within ${this.confirmTimeoutMs} ms`));
      }, this.confirmTimeoutMs);
    });
    return Promise.race([confirms, timeout]).finally(() => clearTimeout(timer));
  }

  /** Sends straight to a queue (default exchange) and waits for the broker's confirm. */
  sendConfirmed(queue: string, content: Buffer, options: Options.Publish): Promise<void> {
    const pub = this.pub;
    if (!this.up || !pub) return Promise.reject(new Error(`RabbitMQ unavailable: ${this.detail}`));
    const confirm = new Promise<void>((resolve, reject) => {
      try {
        pub.sendToQueue(queue, content, options, (err) => (err ? reject(err) : resolve()));
      } catch (err) {
        reject(err);
      }
    });
    return this.confirmedInTime(pub, confirm, 1);
  }

  async subscribe(spec: SubscriptionSpec): Promise<Subscription> {
    validateSpecShape(spec);
    if (this.closing) throw new Error('RabbitMQ bus is closed');
    const sub = new AmqpSubscription(spec, this, this.log);
    await sub.init();
    this.subs.add(sub);
    this.dlqQueues.add(spec.queue);
    // Disconnected now: the reconnect declares and starts it.
    if (this.conn) await sub.setup(this.conn);
    return sub;
  }

  forget(sub: AmqpSubscription): void {
    this.subs.delete(sub);
  }

  private async withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    const conn = this.conn;
    if (!conn) throw new Error(`RabbitMQ unavailable: ${this.detail}`);
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    try {
      return await fn(ch);
    } finally {
      // Closing returns every message got but not acked to its queue, in place.
      await ch.close().catch(() => {});
    }
  }

  /** Reads the DLQ message by message (non-destructive unless `pick` acks one). */
  private scan(queue: string, visit: (m: GetMessage, ch: Channel) => Promise<'stop' | 'next'>): Promise<void> {
    return this.withChannel(async (ch) => {
      for (;;) {
        const m = await ch.get(deadLetterQueueOf(queue), { noAck: false });
        if (!m) return;
        if ((await visit(m, ch)) === 'stop') return;
      }
    });
  }

  private makeDeadLetters(): DeadLetters {
    const toDeadLetter = (queue: string, m: GetMessage): DeadLetter => {
      const h = m.properties.headers ?? {};
      const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
      return {
        id: str(m.properties.messageId) ?? `delivery-${m.fields.deliveryTag}`,
        queue,
        reason: str(h[DLQ_HEADERS.error]) ?? '',
        attempts: Number(h[DLQ_HEADERS.attempts] ?? 0),
        deadLetteredAt: str(h[DLQ_HEADERS.at]) ?? '',
        exchange: str(h[DLQ_HEADERS.exchange]),
        routingKey: str(h[DLQ_HEADERS.routingKey]),
        body: m.content.toString('utf8'),
      };
    };
    const find = async (queue: string, id: string, onFound?: (m: GetMessage, ch: Channel) => Promise<void>) => {
      let found: DeadLetter | undefined;
      await this.scan(queue, async (m, ch) => {
        if (m.properties.messageId !== id) return 'next';
        found = toDeadLetter(queue, m);
        await onFound?.(m, ch);
        return 'stop';
      });
      return found;
    };
    return {
      queues: async () => {
        const out: { queue: string; depth: number }[] = [];
        for (const queue of [...this.dlqQueues].sort()) {
          try {
            const q = await this.withChannel((ch) => ch.checkQueue(deadLetterQueueOf(queue)));
            out.push({ queue, depth: q.messageCount });
          } catch {
            // No such DLQ in this vhost.
          }
        }
        return out;
      },
      list: async (queue, limit = 100) => {
        const out: DeadLetter[] = [];
        await this.scan(queue, async (m) => {
          out.push(toDeadLetter(queue, m));
          return out.length >= limit ? 'stop' : 'next';
        });
        return out;
      },
      show: (queue, id) => find(queue, id),
      replay: async (queue, id) => {
        const found = await find(queue, id, async (m, ch) => {
          const {
            [DLQ_HEADERS.error]: _e,
            [DLQ_HEADERS.attempts]: _a,
            [DLQ_HEADERS.at]: _t,
            ...rest
          } = m.properties.headers ?? {};
          const target = typeof rest[DLQ_HEADERS.queue] === 'string' ? String(rest[DLQ_HEADERS.queue]) : queue;
          // Only to the queue it came from (default exchange), same message id, attempts start again.
          await this.sendConfirmed(target, m.content, {
            persistent: true,
            messageId: m.properties.messageId,
            type: m.properties.type,
            contentType: m.properties.contentType,
            correlationId: m.properties.correlationId,
            timestamp: m.properties.timestamp,
            headers: { ...rest, 'x-replayed-at': new Date().toISOString() },
          });
          ch.ack(m);
        });
        return found !== undefined;
      },
      discard: async (queue, id) => {
        const found = await find(queue, id, async (m, ch) => ch.ack(m));
        return found !== undefined;
      },
    };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const sub of [...this.subs]) await sub.close().catch(() => {});
    this.up = false;
    this.detail = 'closed';
    const conn = this.conn;
    this.conn = undefined;
    this.pub = undefined;
    await conn?.close().catch(() => {});
  }
}
