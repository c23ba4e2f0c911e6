import { EXCHANGES } from '@commerce/contracts';
/**
 * The RabbitMQ bus's connection (docs/messaging.md "Reconnection"): connect, notice a loss, reconnect with backoff,
 * and the confirm channel every publish goes through, with pipelined confirms that are waited for at most
 * `confirmTimeoutMs`.
 */
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type Options } from 'amqplib';
import type { Logger } from '../log.js';
import { runInTraceparent } from '../tracing.js';
import { type ExchangeTypeNeed, requireExchangeTypes } from './brokerPlugins.js';
import type { BusHealth, OutgoingMessage } from './port.js';
import { errorMessage } from './retry.js';

export interface RabbitMqConnectionOptions {
  url: string;
  log: Logger;
  /** Shown as the connection name in the management UI. */
  serviceName: string;
  heartbeatSeconds?: number;
  confirmTimeoutMs?: number;
  requiredExchangeTypes?: readonly ExchangeTypeNeed[];
}

/** What the connection tells the bus about: a new connection to set up on, and the loss of the current one. */
export interface ConnectionEvents {
  /** Declares and starts what consumes on `conn`; a rejection fails (and retries) the connect. */
  connected(conn: ChannelModel): Promise<void>;
  lost(): void;
}

function withHeartbeat(url: string, seconds: number): string {
  try {
    const u = new URL(url);
    if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(seconds));
    return u.toString();
  } catch {
    throw new Error('AMQP_URL is not a valid URL (expected amqp://user:pass@host:5672/vhost)');
  }
}

export class RabbitMqConnection {
  private readonly url: string;
  private readonly log: Logger;
  private readonly confirmTimeoutMs: number;
  private conn: ChannelModel | undefined;
  private pub: ConfirmChannel | undefined;
  private up = false;
  private detail = 'not started';
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempt = 0;
  private readonly availableListeners = new Set<() => void>();

  constructor(
    private readonly o: RabbitMqConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {
    this.url = withHeartbeat(o.url, o.heartbeatSeconds ?? 5);
    this.log = o.log;
    this.confirmTimeoutMs = o.confirmTimeoutMs ?? 10_000;
  }

  /** The live connection, if any. */
  get current(): ChannelModel | undefined {
    return this.conn;
  }

  get closed(): boolean {
    return this.closing;
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
      await this.events.connected(conn);
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
    this.events.lost();
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
            // In the outbox row's trace: the amqplib instrumentation's publish span continues it (and its context
            // replaces the header); without instrumentation the row's traceparent goes as it is.
            runInTraceparent(m.traceparent, () =>
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
              ),
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

  /** Runs `fn` on a channel of its own, closed after it (which returns every message got but not acked, in place). */
  async withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    const conn = this.conn;
    if (!conn) throw new Error(`RabbitMQ unavailable: ${this.detail}`);
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => {});
    }
  }

  /** Stops reconnecting, lets `beforeDisconnect` (the subscriptions' close) run, then closes the connection. */
  async close(beforeDisconnect: () => Promise<void>): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    await beforeDisconnect();
    this.up = false;
    this.detail = 'closed';
    const conn = this.conn;
    this.conn = undefined;
    this.pub = undefined;
    await conn?.close().catch(() => {});
  }
}
