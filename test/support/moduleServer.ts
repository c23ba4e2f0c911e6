/**
 * A service module's real HTTP server (kernel createHttpServer + the module's routes) on a fresh PostgreSQL
 * database, with no consumers and no broker: what route-level tests (authorization matrix, bad-input sweep) need.
 */
import { randomUUID } from 'node:crypto';
import {
  createAuthVerifier,
  createHttpServer,
  createLogger,
  type Database,
  loadSettings,
  MemoryDedupCache,
  type MessageBus,
  openDatabase,
  partitionOwnershipFor,
  type ServiceContext,
  type ServiceModule,
  type Settings,
} from '@commerce/kernel';
import type { FastifyInstance } from 'fastify';
import { createTestDatabase } from './services.js';

export interface ModuleServer {
  name: string;
  app: FastifyInstance;
  db: Database;
  ctx: ServiceContext;
  drop(): Promise<void>;
}

export async function startModuleServer(
  module: ServiceModule,
  o: {
    /** Prefix of the test database and instance id. */
    prefix: string;
    /** HS256 secret the server verifies tokens with. */
    secret: string;
    /** Settings over the defaults (loadSettings of an empty environment). */
    settings?: Partial<Settings>;
    /** Called after the module's routes, before the server is ready (more routes, as the launcher adds). */
    beforeReady?: (app: FastifyInstance, ctx: ServiceContext) => Promise<void>;
  },
): Promise<ModuleServer> {
  const testDb = await createTestDatabase(`${o.prefix}_${module.name}`);
  const db = await openDatabase({ url: testDb.url, name: module.name, migrations: module.migrations });
  const log = createLogger({ level: 'silent' });
  const ctx: ServiceContext = {
    name: module.name,
    settings: { ...loadSettings({}), ...o.settings },
    log,
    db,
    // Routes only write outbox rows; nothing is published by these tests.
    bus: {} as MessageBus,
    dedup: new MemoryDedupCache(),
    instanceId: `${o.prefix}-${module.name}`,
    partitionOwnership: (count) => partitionOwnershipFor(db, { instanceId: `${o.prefix}-${module.name}`, count, log }),
    now: () => new Date(),
    newId: randomUUID,
  };
  const app = await createHttpServer({
    service: module.name,
    title: module.name,
    version: 'test',
    log,
    auth: createAuthVerifier({ secret: o.secret }),
    rateLimit: null,
    readiness: { database: () => db.ping() },
  });
  await module.routes(app, ctx);
  await o.beforeReady?.(app, ctx);
  await app.ready();
  return {
    name: module.name,
    app,
    db,
    ctx,
    async drop() {
      await app.close();
      await db.close();
      await testDb.drop();
    },
  };
}
