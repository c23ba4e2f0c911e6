/**
 * Inventory's and payment's consumers under test: order messages as the order service publishes them, and a
 * service started as the launcher starts it (its consumer, its outbox relay) on either bus.
 */
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
  partitionOwnershipFor,
  RabbitMqBus,
  type RunningParts,
  type ServiceModule,
  type Settings,
} from '@commerce/kernel';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, createTestVhost, type ServiceKind } from './services.js';

/** An order event as the order service writes it (source `order`, a new id, no cause). */
export function orderEnvelope(eventType: string, orderId: string, data: unknown): Envelope {
  return {
    eventId: randomUUID(),
    eventType,
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    orderId,
    causationId: null,
    source: 'order',
    data,
  };
}

/** Both buses, with the services each needs (for describeWith). */
export const BUSES = [
  { kind: 'in-process', needs: ['postgres'] },
  { kind: 'rabbitmq', needs: ['postgres', 'rabbitmq'] },
] as const satisfies readonly { kind: string; needs: readonly ServiceKind[] }[];

export interface ConsumerUnderTest {
  /** The service's database (set once the suite's beforeAll has run). */
  readonly db: Database;
  /** Publishes an order event to order_events, as the order service's relay would. */
  publish(eventType: string, orderId: string, data: unknown): Promise<void>;
  /** The service's answers about one order, in the order they arrived on its exchange. */
  answers(orderId: string): Envelope[];
}

/**
 * Registers the suite's beforeAll/afterAll: a fresh database (and vhost on RabbitMQ), the service started as the
 * launcher starts it (start(ctx) subscribes its consumer; the kernel's relay publishes its outbox), and a listener
 * bound to the service's answers like the order saga's.
 */
export function consumerThroughRelay(o: {
  kind: (typeof BUSES)[number]['kind'];
  service: ServiceModule;
  settings: Partial<Settings>;
  /** Where the answers go, e.g. inventory_events / inventory.# */
  answers: { exchange: string; routingKey: string };
  /** Rows the tests start from (products, accounts). */
  seed(db: Database): Promise<unknown>;
}): ConsumerUnderTest {
  const name = o.service.name;
  const prefix = `${name.slice(0, 3)}_consumer`;
  let testDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Database | undefined;
  let bus: MessageBus;
  let relay: OutboxRelay;
  let running: RunningParts;
  let vhost: Awaited<ReturnType<typeof createTestVhost>> | undefined;
  const seen: Envelope[] = [];

  beforeAll(async () => {
    testDb = await createTestDatabase(prefix);
    const opened = await openDatabase({ url: testDb.url, name, migrations: o.service.migrations });
    db = opened;
    const log = createLogger({ level: 'silent' });
    if (o.kind === 'rabbitmq') {
      // A vhost of its own: a real RabbitMQ topology (exchanges, quorum queues, DLQs), dropped at the end.
      vhost = await createTestVhost(prefix);
      bus = new RabbitMqBus({ url: vhost.url, log, serviceName: `${name}-test` });
    } else bus = new InProcessBus({ log });
    await bus.start();
    await bus.subscribe({
      queue: `test.${o.answers.exchange}`,
      bindings: [o.answers],
      handler: async (d) => {
        seen.push(d.envelope);
      },
    });
    running = await o.service.start({
      name,
      settings: o.settings as Settings,
      log,
      db: opened,
      bus,
      dedup: new MemoryDedupCache(),
      instanceId: 'test',
      partitionOwnership: (count) => partitionOwnershipFor(opened, { instanceId: 'test', count, log }),
      now: () => new Date(),
      newId: randomUUID,
    });
    relay = new OutboxRelay({ db, bus, log, pollIntervalMs: 100 });
    await relay.start();
    await o.seed(db);
  });
  afterAll(async () => {
    await relay?.stop();
    await running?.stop();
    await bus?.close();
    await vhost?.drop();
    await db?.close();
    await testDb?.drop();
  });

  return {
    get db() {
      if (!db) throw new Error('the consumer suite has not started (beforeAll)');
      return db;
    },
    publish: (eventType, orderId, data) =>
      bus.publish([
        {
          exchange: 'order_events',
          routingKey: eventType.toLowerCase().replaceAll('_', '.'),
          envelope: orderEnvelope(eventType, orderId, data),
        },
      ]),
    answers: (orderId) => seen.filter((e) => e.orderId === orderId),
  };
}
