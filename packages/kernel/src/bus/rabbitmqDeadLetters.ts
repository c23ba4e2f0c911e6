/**
 * Dead-letter tooling on RabbitMQ (docs/messaging.md "Dead-letter tooling", behind `commerce dlq`): list, show,
 * replay and discard the messages of `<queue>.dlq`. Reading is `basic.get` on a channel that is closed afterwards,
 * which puts every message not acked back in place, so list and show consume nothing.
 */
import type { Channel, GetMessage, Options } from 'amqplib';
import type { DeadLetter, DeadLetters } from './port.js';
import { DLQ_HEADERS, deadLetterQueueOf } from './topology.js';

/** What the tooling needs of the bus's connection. */
export interface DeadLetterLink {
  withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T>;
  sendConfirmed(queue: string, content: Buffer, options: Options.Publish): Promise<void>;
}

function toDeadLetter(queue: string, m: GetMessage): DeadLetter {
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
}

/** `queues` names the queues whose dead letters are listed: those subscribed here plus any the caller configured. */
export function rabbitMqDeadLetters(link: DeadLetterLink, queues: () => Iterable<string>): DeadLetters {
  /** Reads the DLQ message by message (non-destructive unless `visit` acks one). */
  const scan = (queue: string, visit: (m: GetMessage, ch: Channel) => Promise<'stop' | 'next'>) =>
    link.withChannel(async (ch) => {
      for (;;) {
        const m = await ch.get(deadLetterQueueOf(queue), { noAck: false });
        if (!m) return;
        if ((await visit(m, ch)) === 'stop') return;
      }
    });
  const find = async (queue: string, id: string, onFound?: (m: GetMessage, ch: Channel) => Promise<void>) => {
    let found: DeadLetter | undefined;
    await scan(queue, async (m, ch) => {
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
      for (const queue of [...queues()].sort()) {
        try {
          const q = await link.withChannel((ch) => ch.checkQueue(deadLetterQueueOf(queue)));
          out.push({ queue, depth: q.messageCount });
        } catch {
          // No such DLQ in this vhost.
        }
      }
      return out;
    },
    list: async (queue, limit = 100) => {
      const out: DeadLetter[] = [];
      await scan(queue, async (m) => {
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
        await link.sendConfirmed(target, m.content, {
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
