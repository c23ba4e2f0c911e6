import { randomUUID } from 'node:crypto';
import type { Envelope } from '@commerce/contracts';
import {
  createLogger,
  type Database,
  InProcessBus,
  MemoryDedupCache,
  type MessageBus,
  OutboxRelay,
  openDatabase,
  RabbitMqBus,
  type RunningParts,
  type ServiceContext,
  type Settings,
} from '@commerce/kernel';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, createTestVhost, describeWith, waitFor } from '../../../../test/support/services.js';
import { putAccount, readAccount } from '../application/accounts.js';
import { paymentService } from '../index.js';

/**
 * The service as the launcher runs it: start(ctx) subscribes 'payment.order_events', answers go through the
 * outbox and the kernel's relay to payment_events, where a listener bound like the order saga sees them.
 */
const BUSES = [
  { kind: 'in-process', needs: ['postgres'] },
  { kind: 'rabbitmq', needs: ['postgres', 'rabbitmq'] },
] as const;

for (const { kind, needs } of BUSES)
  describeWith([...needs], `payment consumer through the outbox relay on the ${kind} bus`, () => {
    let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
    let db: Database;
    let bus: MessageBus;
    let relay: OutboxRelay;
    let running: RunningParts;
    let vhost: Awaited<ReturnType<typeof createTestVhost>> | undefined;
    const seen: Envelope[] = [];

    beforeAll(async () => {
      testDb = await createTestDatabase('pay_consumer');
      db = await openDatabase({ url: testDb.url, name: 'payment', migrations: paymentService.migrations });
      const log = createLogger({ level: 'silent' });
      if (kind === 'rabbitmq') {
        // A vhost of its own: a real RabbitMQ topology (exchanges, quorum queues, DLQs), dropped at the end.
        vhost = await createTestVhost('pay_consumer');
        bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'payment-test' });
      } else bus = new InProcessBus({ log });
      await bus.start();
      const ctx: ServiceContext = {
        name: 'payment',
        settings: { maxDeliveryAttempts: 3 } as Settings,
        log,
        db,
        bus,
        dedup: new MemoryDedupCache(),
        instanceId: 'test',
        now: () => new Date(),
        newId: randomUUID,
      };
      await bus.subscribe({
        queue: 'test.payment_events',
        bindings: [{ exchange: 'payment_events', routingKey: 'payment.#' }],
        handler: async (d) => {
          seen.push(d.envelope);
        },
      });
      running = await paymentService.start(ctx);
      relay = new OutboxRelay({ db, bus, log, pollIntervalMs: 100 });
      await relay.start();
      await putAccount(db, new Date(), { customerId: 'dora', balance: 1000, currency: 'EUR' });
    });
    afterAll(async () => {
      await relay?.stop();
      await running?.stop();
      await bus?.close();
      await vhost?.drop();
      await db?.close();
      await testDb?.drop();
    });

    const publish = (eventType: string, orderId: string, data: unknown) =>
      bus.publish([
        {
          exchange: 'order_events',
          routingKey: eventType.toLowerCase().replaceAll('_', '.'),
          envelope: {
            eventId: randomUUID(),
            eventType,
            schemaVersion: 1,
            occurredAt: new Date().toISOString(),
            orderId,
            causationId: null,
            source: 'order',
            data,
          },
        },
      ]);
    const order = (totalAmount: number, currency = 'EUR', customerId = 'dora') => ({
      customerId,
      currency,
      items: [{ productId: 'p', quantity: 1, unitPrice: totalAmount }],
      totalAmount,
    });
    const answers = (orderId: string) => seen.filter((e) => e.orderId === orderId);

    it.each([
      ['PAYMENT_APPROVED', order(400), { amount: 400, currency: 'EUR' }],
      ['PAYMENT_DECLINED', order(5000), { reason: 'INSUFFICIENT_FUNDS' }],
      ['PAYMENT_DECLINED', order(1, 'EUR', 'nobody'), { reason: 'UNKNOWN_CUSTOMER' }],
      ['PAYMENT_DECLINED', order(1, 'GBP'), { reason: 'CURRENCY_MISMATCH' }],
    ])('ORDER_CREATED → %s %j on payment_events', async (eventType, data, answer) => {
      const orderId = randomUUID();
      await publish('ORDER_CREATED', orderId, data);
      const [got] = await waitFor(() => (answers(orderId).length > 0 ? answers(orderId) : undefined), {
        what: `answer for ${orderId}`,
      });
      expect(got).toMatchObject({ eventType, source: 'payment', data: answer });
    });

    it('rollback → PAYMENT_REFUNDED with the amount, once; the balance is whole again', async () => {
      const orderId = randomUUID();
      await publish('ORDER_CREATED', orderId, order(250));
      await waitFor(() => answers(orderId).length === 1);
      await publish('ORDER_PAYMENT_ROLLBACK_REQUESTED', orderId, { amount: 250, currency: 'EUR' });
      await waitFor(() => answers(orderId).length === 2, { what: 'PAYMENT_REFUNDED' });
      expect(answers(orderId)[1]).toMatchObject({
        eventType: 'PAYMENT_REFUNDED',
        data: { amount: 250, currency: 'EUR' },
      });
      // 1000 - 400 (first test, approved and never refunded)
      expect((await readAccount(db, 'dora'))?.balance).toBe(600);
    });
  });
