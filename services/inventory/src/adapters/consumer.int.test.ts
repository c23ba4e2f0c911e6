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
import { putProduct } from '../application/catalogue.js';
import { inventoryService } from '../index.js';

/**
 * The service as the launcher runs it: start(ctx) subscribes 'inventory.order_events', answers go through the
 * outbox and the kernel's relay to inventory_events, where a listener bound like the order saga sees them.
 */
const BUSES = [
  { kind: 'in-process', needs: ['postgres'] },
  { kind: 'rabbitmq', needs: ['postgres', 'rabbitmq'] },
] as const;

for (const { kind, needs } of BUSES)
  describeWith([...needs], `inventory consumer through the outbox relay on the ${kind} bus`, () => {
    let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
    let db: Database;
    let bus: MessageBus;
    let relay: OutboxRelay;
    let running: RunningParts;
    let vhost: Awaited<ReturnType<typeof createTestVhost>> | undefined;
    const seen: Envelope[] = [];

    beforeAll(async () => {
      testDb = await createTestDatabase('inv_consumer');
      db = await openDatabase({ url: testDb.url, name: 'inventory', migrations: inventoryService.migrations });
      const log = createLogger({ level: 'silent' });
      if (kind === 'rabbitmq') {
        // A vhost of its own: a real RabbitMQ topology (exchanges, quorum queues, DLQs), dropped at the end.
        vhost = await createTestVhost('inv_consumer');
        bus = new RabbitMqBus({ url: vhost.url, log, serviceName: 'inventory-test' });
      } else bus = new InProcessBus({ log });
      await bus.start();
      const ctx: ServiceContext = {
        name: 'inventory',
        settings: { reservationTtlMs: 60_000, maxDeliveryAttempts: 3 } as Settings,
        log,
        db,
        bus,
        dedup: new MemoryDedupCache(),
        instanceId: 'test',
        now: () => new Date(),
        newId: randomUUID,
      };
      await bus.subscribe({
        queue: 'test.inventory_events',
        bindings: [{ exchange: 'inventory_events', routingKey: 'inventory.#' }],
        handler: async (d) => {
          seen.push(d.envelope);
        },
      });
      running = await inventoryService.start(ctx);
      relay = new OutboxRelay({ db, bus, log, pollIntervalMs: 100 });
      await relay.start();
      await putProduct(db, new Date(), { productId: 'mug', name: 'Mug', unitPrice: 800, currency: 'EUR', stock: 3 });
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
    const order = (quantity: number, currency = 'EUR', productId = 'mug', unitPrice = 800) => ({
      customerId: 'c1',
      currency,
      items: [{ productId, quantity, unitPrice }],
      totalAmount: quantity * unitPrice,
    });
    const answers = (orderId: string) => seen.filter((e) => e.orderId === orderId);

    it.each([
      ['INVENTORY_RESERVED', order(1), { items: order(1).items }],
      ['INVENTORY_RESERVATION_FAILED', order(99), { reason: 'OUT_OF_STOCK', productIds: ['mug'] }],
      ['INVENTORY_RESERVATION_FAILED', order(1, 'EUR', 'zzz'), { reason: 'UNKNOWN_PRODUCT', productIds: ['zzz'] }],
      ['INVENTORY_RESERVATION_FAILED', order(1, 'EUR', 'mug', 1), { reason: 'PRICE_MISMATCH', productIds: ['mug'] }],
      ['INVENTORY_RESERVATION_FAILED', order(1, 'USD'), { reason: 'CURRENCY_MISMATCH', productIds: ['mug'] }],
    ])('ORDER_CREATED → %s %j on inventory_events', async (eventType, data, answer) => {
      const orderId = randomUUID();
      await publish('ORDER_CREATED', orderId, data);
      const [got] = await waitFor(() => (answers(orderId).length > 0 ? answers(orderId) : undefined), {
        what: `answer for ${orderId}`,
      });
      expect(got).toMatchObject({ eventType, source: 'inventory', data: answer });
    });

    it('confirm → INVENTORY_COMMITTED; rollback before create → INVENTORY_RELEASED twice, nothing reserved', async () => {
      const a = randomUUID();
      await publish('ORDER_CREATED', a, order(1));
      await waitFor(() => answers(a).length === 1);
      await publish('ORDER_CONFIRMED', a, {});
      await waitFor(() => answers(a).length === 2, { what: 'INVENTORY_COMMITTED' });
      expect(answers(a).map((e) => e.eventType)).toEqual(['INVENTORY_RESERVED', 'INVENTORY_COMMITTED']);

      const b = randomUUID();
      await publish('ORDER_INVENTORY_ROLLBACK_REQUESTED', b, {});
      await publish('ORDER_CREATED', b, order(1));
      await waitFor(() => answers(b).length === 2, { what: 'two INVENTORY_RELEASED' });
      expect(answers(b).map((e) => e.eventType)).toEqual(['INVENTORY_RELEASED', 'INVENTORY_RELEASED']);
      const mug = await db.query<{ available: number; reserved: number; sold: number }>(
        'SELECT available, reserved, sold FROM products WHERE product_id = $1',
        ['mug'],
      );
      // 3 units: one reserved by the first test (still open), one sold here.
      expect(mug.rows[0]).toEqual({ available: 1, reserved: 1, sold: 1 });
    });
  });
