/** Builds the order service on a real PostgreSQL database, as the launcher does, for int tests. */
import { randomUUID } from 'node:crypto';
import type { Envelope } from '@commerce/contracts';
import {
  createAuthVerifier,
  createHttpServer,
  createLogger,
  type Database,
  InProcessBus,
  loadSettings,
  MemoryDedupCache,
  openDatabase,
  type ServiceContext,
  signToken,
} from '@commerce/kernel';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '../../../test/support/services.js';
import { ORDER_MIGRATIONS, type OrderDeps, orderDeps, orderService } from '../src/index.js';

export const SECRET = 'order-service-test-secret-0123456789abcdef';

export interface OrderHarness {
  db: Database;
  app: FastifyInstance;
  ctx: ServiceContext;
  deps: OrderDeps;
  url: string;
  token(sub: string, role?: 'customer' | 'admin'): Promise<string>;
  close(): Promise<void>;
}

export async function orderHarness(env: Record<string, string> = {}): Promise<OrderHarness> {
  const tdb = await createTestDatabase('order');
  const log = createLogger({ level: 'silent' });
  const db = await openDatabase({ url: tdb.url, name: 'order', migrations: ORDER_MIGRATIONS, log });
  const bus = new InProcessBus({ log });
  const ctx: ServiceContext = {
    name: 'order',
    settings: loadSettings(env),
    log,
    db,
    bus,
    dedup: new MemoryDedupCache(),
    instanceId: `test-${randomUUID()}`,
    now: () => new Date(),
    newId: () => randomUUID(),
  };
  const app = await createHttpServer({
    service: 'order',
    title: 'order service',
    version: 'test',
    log,
    auth: createAuthVerifier({ secret: SECRET }),
    rateLimit: null,
    readiness: { database: () => db.ping() },
  });
  await orderService.routes(app, ctx);
  await app.ready();
  return {
    db,
    app,
    ctx,
    deps: orderDeps(ctx),
    url: tdb.url,
    token: (sub, role = 'customer') => signToken({ secret: SECRET, sub, role }),
    async close() {
      await app.close();
      await bus.close();
      await db.close();
      await tdb.drop();
    },
  };
}

let seq = 0;
/** A result message as inventory or payment would publish it. */
export function resultEnvelope(orderId: string, eventType: string, data: unknown, source?: string): Envelope {
  seq++;
  return {
    eventId: randomUUID(),
    eventType,
    schemaVersion: 1,
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq % 60)).toISOString(),
    orderId,
    causationId: null,
    source: source ?? (eventType.startsWith('INVENTORY') ? 'inventory' : 'payment'),
    data,
  };
}
