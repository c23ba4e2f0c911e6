/** Builds the order service on a real PostgreSQL database, as the launcher does, for int tests. */
import { randomUUID } from 'node:crypto';
import type { Envelope } from '@commerce/contracts';
import {
  commitChange,
  createAuthVerifier,
  createHttpServer,
  createLogger,
  type Database,
  InProcessBus,
  loadSettings,
  MemoryDedupCache,
  openDatabase,
  partitionOwnershipFor,
  type ServiceContext,
  signToken,
} from '@commerce/kernel';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from '../../../test/support/services.js';
import {
  cancelOrder as cancelOrderChange,
  findOrder,
  fireDueDeadlines as fireDue,
  type OrderChange,
  type OrderDeps,
  type OrderView,
  orderDeps,
  orderMigrations,
  orderService,
  type PlaceOrderRequest,
  placeOrder as placeOrderChange,
  retryCompensation as retryCompensationChange,
  type SagaResultChange,
  handleSagaResult as sagaResultChange,
} from '../src/index.js';

/** The use cases' dependencies with the database their changes commit to (as the adapters hold it). */
export type TestDeps = OrderDeps & { db: Database };

export function testDeps(ctx: ServiceContext): TestDeps {
  return { ...orderDeps(ctx), db: ctx.db };
}

export const SECRET = 'order-service-test-secret-0123456789abcdef';

export interface OrderHarness {
  db: Database;
  app: FastifyInstance;
  ctx: ServiceContext;
  deps: TestDeps;
  /** undefined on PGlite. */
  url: string | undefined;
  token(sub: string, role?: 'customer' | 'admin'): Promise<string>;
  close(): Promise<void>;
}

/** The order service on a fresh PostgreSQL database, or on an in-memory PGlite one (the embedded default). */
export async function orderHarness(
  env: Record<string, string> = {},
  o: { embedded?: boolean } = {},
): Promise<OrderHarness> {
  const tdb = o.embedded ? { url: undefined, drop: async () => {} } : await createTestDatabase('order');
  const log = createLogger({ level: 'silent' });
  const db = await openDatabase({ url: tdb.url, name: 'order', migrations: orderMigrations, log });
  const bus = new InProcessBus({ log });
  const instanceId = `test-${randomUUID()}`;
  const ctx: ServiceContext = {
    name: 'order',
    settings: loadSettings(env),
    log,
    db,
    bus,
    dedup: new MemoryDedupCache(),
    instanceId,
    partitionOwnership: (count) => partitionOwnershipFor(db, { instanceId, count, log }),
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
    deps: testDeps(ctx),
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

// ---- the use cases, committed as the routes and the consumer commit them ----

export type Placed = { kind: 'created' | 'replayed'; order: OrderView } | { kind: 'key-reused' };

export async function placeOrder(d: TestDeps, req: PlaceOrderRequest): Promise<Placed> {
  const out = await commitChange(d.db, placeOrderChange(d, req));
  if (out.kind === 'applied') return { kind: 'created', order: out.result };
  if (out.kind !== 'replayed') return { kind: 'key-reused' };
  const orderId = (out.answer as { orderId: string }).orderId;
  const order = await findOrder(d.db, orderId);
  if (!order) throw new Error(`replayed order ${orderId} has no row`);
  return { kind: 'replayed', order };
}

/** A result fed to the saga's handler; `duplicate` when its inbox record was there already. */
export async function handleSagaResult(
  d: TestDeps,
  envelope: Envelope,
  traceparent?: string,
): Promise<(SagaResultChange & { duplicate: boolean }) | { duplicate: true; appended: [] } | undefined> {
  const change = sagaResultChange(d, envelope, traceparent);
  if (!change) return undefined;
  const out = await commitChange(d.db, change, { dedup: undefined });
  return out.kind === 'applied' ? { ...out.result, duplicate: false } : { duplicate: true, appended: [] };
}

async function applied<R>(p: Promise<{ kind: string; result?: R }>): Promise<R> {
  const out = await p;
  if (out.kind !== 'applied') throw new Error(`expected the change applied, got ${out.kind}`);
  return out.result as R;
}

export function cancelOrder(
  d: TestDeps,
  orderId: string,
  by: 'customer' | 'admin',
  traceparent?: string,
): Promise<OrderChange> {
  return applied(commitChange(d.db, cancelOrderChange(d, orderId, by, traceparent)));
}

export function retryCompensation(d: TestDeps, orderId: string, traceparent?: string): Promise<OrderChange> {
  return applied(commitChange(d.db, retryCompensationChange(d, orderId, traceparent)));
}

export function fireDueDeadlines(d: TestDeps, max?: number): Promise<number> {
  return fireDue(d.db, d, max);
}
