/**
 * The three services' OpenAPI documents as the running platform serves them at /openapi.json, made without
 * databases or a broker: each service's real HTTP bootstrap and routes (the order service's with the operator
 * routes), handlers never called. `npm run check:openapi` writes them out and lints them; the client package is
 * generated from them.
 */
import { randomUUID } from 'node:crypto';
import {
  createHttpServer,
  createLogger,
  type Database,
  loadSettings,
  MemoryDedupCache,
  type MessageBus,
  SERVICE_NAMES,
  type ServiceContext,
  type ServiceName,
} from '@commerce/kernel';
import { registerOperatorRoutes } from './operator/index.js';
import { MODULES } from './platform.js';

export async function buildApiDocuments(): Promise<Record<ServiceName, Record<string, unknown>>> {
  const settings = loadSettings({});
  const log = createLogger({ level: 'silent' });
  const unused = new Proxy({} as Database & MessageBus, {
    get: (_t, key) => {
      throw new Error(`the document builder runs no handler (${String(key)} was read)`);
    },
  });
  const docs = {} as Record<ServiceName, Record<string, unknown>>;
  for (const name of SERVICE_NAMES) {
    const app = await createHttpServer({
      service: name,
      title: `${name} service`,
      version: '0.1.0',
      log,
      auth: 'disabled',
      rateLimit: null,
      readiness: {},
    });
    // Names of generated client methods must be stable: every documented route names its operation.
    app.addHook('onRoute', (route) => {
      const schema = (route.schema ?? {}) as Record<string, unknown> & { hide?: boolean };
      if (schema.hide || route.method === 'HEAD') return;
      const where = `${String(route.method)} ${route.url}`;
      if (typeof schema.operationId !== 'string' || typeof schema.summary !== 'string')
        throw new Error(`${where}: schema.operationId and schema.summary are required`);
      const success = [
        ...Object.keys((schema.response ?? {}) as object),
        ...Object.keys(route.config?.openapi?.responses ?? {}),
      ].filter((status) => Number(status) < 400);
      if (success.length === 0) throw new Error(`${where}: no success answer is documented`);
    });
    const ctx: ServiceContext = {
      name,
      settings: MODULES[name].settingsOf(settings),
      log,
      db: unused,
      bus: unused,
      dedup: new MemoryDedupCache(),
      instanceId: 'api-docs',
      partitionOwnership: () => {
        throw new Error('the document builder owns no partition');
      },
      now: () => new Date(),
      newId: randomUUID,
    } as ServiceContext;
    await MODULES[name].routes(app, ctx);
    if (name === 'order')
      await registerOperatorRoutes(app, {
        bus: unused,
        dbs: { order: unused },
        log,
        peers: () => [],
        settings: {
          sagaTimeoutMs: settings.sagaTimeoutMs,
          orderPartitions: settings.orderPartitions,
          peerUrls: {},
          reviewTimeoutMs: settings.reviewTimeoutMs,
          webhooks: settings.webhooks,
        },
      });
    await app.ready();
    docs[name] = app.swagger() as unknown as Record<string, unknown>;
    await app.close();
  }
  return docs;
}
