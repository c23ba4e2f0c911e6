/**
 * The behaviour both MessageBus adapters must show (docs/messaging.md). Run by
 * src/bus/inProcess.int.test.ts (in-process bus) and src/bus/bus.int.test.ts (RabbitMQ).
 */
import { randomUUID } from 'node:crypto';
import type { Envelope } from '@commerce/contracts';
import { expect, it } from 'vitest';
import { uniqueName, waitFor } from '../../../../test/support/services.js';
import type { Delivery, MessageBus, OutgoingMessage } from '../../src/bus/port.js';
import { StaticOwnership } from '../../src/partitions.js';

export interface BusUnderTest {
  bus: MessageBus;
  /** Puts bytes on an exchange as they are, bypassing the envelope (poison messages). */
  publishRaw(exchange: string, routingKey: string, body: string, messageId: string): Promise<void>;
  dispose(): Promise<void>;
}

export function envelope(eventType: string, data: unknown, orderId: string = randomUUID()): Envelope {
  return {
    eventId: randomUUID(),
    eventType,
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    orderId,
    causationId: null,
    source: 'test',
    data,
  };
}

const routingKeyOf = (t: string) => t.toLowerCase().replaceAll('_', '.');
export const message = (exchange: string, env: Envelope, traceparent?: string): OutgoingMessage => ({
  exchange,
  routingKey: routingKeyOf(env.eventType),
  envelope: env,
  traceparent,
});
export const confirmed = (orderId?: string) => message('order_events', envelope('ORDER_CONFIRMED', {}, orderId));

async function withBus(make: () => Promise<BusUnderTest>, fn: (t: BusUnderTest) => Promise<void>) {
  const t = await make();
  try {
    await fn(t);
  } finally {
    await t.dispose();
  }
}

export function runBusContract(make: () => Promise<BusUnderTest>): void {
  it('routes each message to every queue whose binding matches (topic * and #), with its trace context', () =>
    withBus(make, async ({ bus }) => {
      const seen = { a: [] as Delivery[], b: [] as Delivery[] };
      const qa = uniqueName('route_a');
      const qb = uniqueName('route_b');
      await bus.subscribe({
        queue: qa,
        bindings: [{ exchange: 'order_events', routingKey: 'order.*' }],
        handler: async (d) => void seen.a.push(d),
      });
      await bus.subscribe({
        queue: qb,
        bindings: [
          { exchange: 'order_events', routingKey: 'order.created' },
          { exchange: 'payment_events', routingKey: '#' },
        ],
        handler: async (d) => void seen.b.push(d),
      });
      const created = message(
        'order_events',
        envelope('ORDER_CREATED', {
          customerId: 'c-1',
          currency: 'EUR',
          items: [{ productId: 'p-1', quantity: 2, unitPrice: 150 }],
          totalAmount: 300,
        }),
        '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      );
      const conf = confirmed();
      const paid = message('payment_events', envelope('PAYMENT_APPROVED', { amount: 300, currency: 'EUR' }));
      const compensating = message('order_events', envelope('ORDER_COMPENSATION_STARTED', {}));
      const completed = message('order_events', envelope('ORDER_COMPLETED', {}));
      const refunded = message('payment_events', envelope('PAYMENT_REFUNDED', { amount: 1, currency: 'EUR' }));
      await bus.publish([created, conf, paid]);
      // `order.*` must not match the three-word `order.compensation.started`; the messages after it on
      // the same paths arrive after it would have, so once they are in, the negative is settled.
      await bus.publish([compensating, completed, refunded]);
      await waitFor(() => seen.a.length >= 3 && seen.b.length >= 3, { what: 'deliveries' });
      expect(seen.a.map((d) => d.envelope.eventType)).toEqual(['ORDER_CREATED', 'ORDER_CONFIRMED', 'ORDER_COMPLETED']);
      expect(seen.b.map((d) => d.envelope.eventType)).toEqual([
        'ORDER_CREATED',
        'PAYMENT_APPROVED',
        'PAYMENT_REFUNDED',
      ]);
      const got = seen.a.find((d) => d.envelope.eventType === 'ORDER_CREATED');
      expect(got?.envelope).toEqual(created.envelope);
      expect(got?.traceparent).toBe(created.traceparent);
      expect(got?.attempt).toBe(1);
      expect(got?.queue).toBe(qa);
    }));

  it('dead-letters invalid JSON and schema-invalid messages with the reason, and keeps handling the next ones', () =>
    withBus(make, async ({ bus, publishRaw }) => {
      const handled: string[] = [];
      const queue = uniqueName('poison');
      await bus.subscribe({
        queue,
        bindings: [{ exchange: 'order_events', routingKey: '#' }],
        handler: async (d) => void handled.push(d.envelope.eventId),
        backoffMs: 1,
      });
      const notJson = randomUUID();
      const badSchema = randomUUID();
      const wrongData = envelope('ORDER_CONFIRMED', { unexpected: 1 });
      await publishRaw('order_events', 'order.confirmed', '{not json', notJson);
      await publishRaw('order_events', 'order.confirmed', JSON.stringify(wrongData), badSchema);
      const good = confirmed();
      await bus.publish([good]);
      await waitFor(() => handled.includes(good.envelope.eventId), { what: 'the valid message after the poison ones' });
      const dead = await waitFor(
        async () => {
          const l = await bus.deadLetters.list(queue);
          return l.length === 2 ? l : undefined;
        },
        { what: 'two dead letters' },
      );
      expect(handled).toEqual([good.envelope.eventId]);
      const byId = new Map(dead.map((d) => [d.id, d]));
      expect(byId.get(notJson)?.reason).toMatch(/not valid JSON/);
      expect(byId.get(notJson)?.body).toBe('{not json');
      expect(byId.get(badSchema)?.reason).toMatch(/data of ORDER_CONFIRMED invalid/);
      expect(byId.get(badSchema)?.exchange).toBe('order_events');
      expect(byId.get(badSchema)?.routingKey).toBe('order.confirmed');
      expect(byId.get(badSchema)?.attempts).toBe(1);
    }));

  it('retries a failing handler with growing backoff and handles the message exactly once when it recovers', () =>
    withBus(make, async ({ bus }) => {
      const attempts: { attempt: number; at: number }[] = [];
      let successes = 0;
      const queue = uniqueName('retry');
      const backoffMs = 20;
      await bus.subscribe({
        queue,
        bindings: [{ exchange: 'order_events', routingKey: 'order.confirmed' }],
        maxAttempts: 5,
        backoffMs,
        handler: async (d) => {
          attempts.push({ attempt: d.attempt, at: performance.now() });
          if (attempts.length <= 3) throw new Error(`transient failure ${attempts.length}`);
          successes++;
        },
      });
      await bus.publish([confirmed()]);
      await waitFor(() => successes === 1, { what: 'the fourth attempt to succeed' });
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
      for (let i = 1; i < attempts.length; i++) {
        const gap = (attempts[i]?.at ?? 0) - (attempts[i - 1]?.at ?? 0);
        // Equal jitter: at least half of base × 4^(n-1), minus timer slack.
        expect(gap).toBeGreaterThanOrEqual((backoffMs * 4 ** (i - 1)) / 2 - 2);
      }
      expect(await bus.deadLetters.list(queue)).toEqual([]);
      expect(successes).toBe(1);
    }));

  it('never uses up attempts while the database is unavailable: the message waits and is handled, not dead-lettered', () =>
    withBus(make, async ({ bus }) => {
      const seen: number[] = [];
      let handled = 0;
      const queue = uniqueName('outage');
      await bus.subscribe({
        queue,
        bindings: [{ exchange: 'order_events', routingKey: 'order.confirmed' }],
        maxAttempts: 2,
        backoffMs: 1,
        handler: async (d) => {
          seen.push(d.attempt);
          // Twice the attempt limit of outage errors, as PostgreSQL and the pg pool report them.
          if (seen.length <= 2) throw Object.assign(new Error('terminating connection'), { code: '57P01' });
          if (seen.length <= 4) throw new Error('database "order" is not currently accepting connections');
          handled++;
        },
      });
      await bus.publish([confirmed()]);
      await waitFor(() => handled === 1, { what: 'the message to be handled after the outage' });
      expect(seen).toEqual([1, 1, 1, 1, 1]);
      expect(await bus.deadLetters.list(queue)).toEqual([]);
    }));

  it('dead-letters a message whose handler always fails after the configured attempts, with the error', () =>
    withBus(make, async ({ bus }) => {
      let calls = 0;
      const queue = uniqueName('always_fails');
      await bus.subscribe({
        queue,
        bindings: [{ exchange: 'order_events', routingKey: 'order.confirmed' }],
        maxAttempts: 3,
        backoffMs: 2,
        handler: async () => {
          calls++;
          throw new Error('stock service exploded');
        },
      });
      const m = confirmed();
      await bus.publish([m]);
      const [dl] = await waitFor(
        async () => {
          const l = await bus.deadLetters.list(queue);
          return l.length > 0 ? l : undefined;
        },
        { what: 'the dead letter' },
      );
      expect(dl?.id).toBe(m.envelope.eventId);
      expect(dl?.reason).toBe('stock service exploded');
      expect(dl?.attempts).toBe(3);
      expect(dl?.exchange).toBe('order_events');
      expect(dl?.routingKey).toBe('order.confirmed');
      expect(Number.isNaN(Date.parse(dl?.deadLetteredAt ?? ''))).toBe(false);
      expect(JSON.parse(dl?.body ?? '')).toEqual(m.envelope);
      expect(calls).toBe(3);
    }));

  it('lists, shows, replays (same message id, to that queue only) and discards dead letters', () =>
    withBus(make, async ({ bus }) => {
      let broken = true;
      const handled: Delivery[] = [];
      const otherHandled: string[] = [];
      const queue = uniqueName('dlq_tools');
      const other = uniqueName('dlq_other');
      await bus.subscribe({
        queue,
        bindings: [{ exchange: 'order_events', routingKey: 'order.confirmed' }],
        maxAttempts: 1,
        handler: async (d) => {
          if (broken) throw new Error('not yet');
          handled.push(d);
        },
      });
      await bus.subscribe({
        queue: other,
        bindings: [{ exchange: 'order_events', routingKey: 'order.confirmed' }],
        handler: async (d) => void otherHandled.push(d.envelope.eventId),
      });
      const m1 = confirmed();
      const m2 = confirmed();
      await bus.publish([m1, m2]);
      await waitFor(async () => (await bus.deadLetters.list(queue)).length === 2, { what: 'two dead letters' });
      // Listing does not consume.
      expect((await bus.deadLetters.list(queue)).map((d) => d.id).sort()).toEqual(
        [m1.envelope.eventId, m2.envelope.eventId].sort(),
      );
      expect(await bus.deadLetters.list(queue, 1)).toHaveLength(1);
      const queues = await bus.deadLetters.queues();
      expect(queues.find((q) => q.queue === queue)?.depth).toBe(2);
      const shown = await bus.deadLetters.show(queue, m1.envelope.eventId);
      expect(shown?.reason).toBe('not yet');
      expect(JSON.parse(shown?.body ?? '')).toEqual(m1.envelope);
      expect(await bus.deadLetters.show(queue, randomUUID())).toBeUndefined();
      expect((await bus.deadLetters.list(queue)).length).toBe(2);

      broken = false;
      expect(await bus.deadLetters.replay(queue, m1.envelope.eventId)).toBe(true);
      await waitFor(() => handled.length === 1, { what: 'the replayed message' });
      expect(handled[0]?.envelope).toEqual(m1.envelope);
      expect(handled[0]?.attempt).toBe(1);
      expect((await bus.deadLetters.list(queue)).map((d) => d.id)).toEqual([m2.envelope.eventId]);
      expect(await bus.deadLetters.replay(queue, randomUUID())).toBe(false);

      expect(await bus.deadLetters.discard(queue, m2.envelope.eventId)).toBe(true);
      expect(await bus.deadLetters.discard(queue, m2.envelope.eventId)).toBe(false);
      expect(await bus.deadLetters.list(queue)).toEqual([]);
      // The other queue saw each original message once and no replay.
      const sentinel = confirmed();
      await bus.publish([sentinel]);
      // Each queue gets it on its own: wait for both, or the second queue's check races its delivery.
      const sentinelId = sentinel.envelope.eventId;
      await waitFor(() => otherHandled.includes(sentinelId) && handled.some((d) => d.envelope.eventId === sentinelId), {
        what: 'the sentinel on both queues',
      });
      expect(otherHandled.sort()).toEqual([m1.envelope.eventId, m2.envelope.eventId, sentinel.envelope.eventId].sort());
      // The broken queue saw the replay and the sentinel, nothing else (m2 was discarded).
      expect(handled.map((d) => d.envelope.eventId)).toEqual([m1.envelope.eventId, sentinel.envelope.eventId]);
    }));

  it('keeps per-order order on a partitioned subscription while different orders run concurrently', () =>
    withBus(make, async ({ bus }) => {
      const orders = Array.from({ length: 20 }, () => randomUUID());
      const perOrder = 10;
      const seen = new Map<string, number[]>();
      const running = new Set<string>();
      const queuesUsed = new Set<string>();
      let overlaps = 0;
      let concurrent = 0;
      let maxConcurrent = 0;
      const queue = uniqueName('partitioned');
      await bus.subscribe({
        queue,
        bindings: [{ exchange: 'order_events', routingKey: 'order.#' }],
        prefetch: 8,
        partitions: { count: 4, ownership: new StaticOwnership(4) },
        handler: async (d) => {
          const key = d.envelope.orderId;
          if (running.has(key)) overlaps++;
          running.add(key);
          concurrent++;
          maxConcurrent = Math.max(maxConcurrent, concurrent);
          queuesUsed.add(d.queue);
          await new Promise((r) => setTimeout(r, Math.random() * 3));
          const seq = Number((d.envelope.data as { reasons: string[] }).reasons[0]);
          seen.set(key, [...(seen.get(key) ?? []), seq]);
          concurrent--;
          running.delete(key);
        },
      });
      for (let seq = 1; seq <= perOrder; seq++) {
        await bus.publish(
          orders.map((o) =>
            message(
              'order_events',
              envelope(
                'ORDER_CANCELLED',
                { reasons: [String(seq)], requiresRefund: false, requiresInventoryRollback: false },
                o,
              ),
            ),
          ),
        );
      }
      await waitFor(() => [...seen.values()].reduce((n, s) => n + s.length, 0) === orders.length * perOrder, {
        what: 'all messages',
      });
      const expected = Array.from({ length: perOrder }, (_, i) => i + 1);
      for (const o of orders) expect(seen.get(o)).toEqual(expected);
      expect(overlaps).toBe(0);
      expect(maxConcurrent).toBeGreaterThan(1);
      expect(queuesUsed.size).toBeGreaterThan(1);
      for (const q of queuesUsed) expect(q).toMatch(new RegExp(`^${queue}\\.p[0-3]$`));
    }));
}
