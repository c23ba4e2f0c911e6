import { randomUUID } from 'node:crypto';
import { CONSUMER_QUEUES } from '@commerce/contracts';
import { inventoryService } from '@commerce/inventory';
import {
  createAuthVerifier,
  createHttpServer,
  createMetricsRegistry,
  type Database,
  DbDeadLetterStore,
  type DedupCache,
  EmfReporter,
  IdempotencyKeyRetention,
  InboxRetention,
  InProcessBus,
  type Logger,
  MemoryDedupCache,
  type MessageBus,
  OutboxRelay,
  openDatabase,
  outboxPublishMetrics,
  PARTITION_EXCHANGE,
  type PartitionOwnership,
  partitionOwnershipFor,
  RabbitMqBus,
  RedisDedupCache,
  type RunningParts,
  registerServiceMetrics,
  type ServiceContext,
  type ServiceModule,
  type ServiceName,
  type Settings,
} from '@commerce/kernel';
import { orderService } from '@commerce/order';
import { paymentService } from '@commerce/payment';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { operatorSettingsOf, registerOperatorRoutes } from './operator/index.js';

export const MODULES: Record<ServiceName, ServiceModule> = {
  order: orderService,
  inventory: inventoryService,
  payment: paymentService,
};

export interface RunningService {
  name: ServiceName;
  app: FastifyInstance;
  db: Database;
  url: string;
  parts: RunningParts;
  relay: OutboxRelay;
  /** Deletes inbox rows older than INBOX_RETENTION_MS. */
  inboxRetention: InboxRetention;
  /** Deletes Idempotency-Keys older than IDEMPOTENCY_KEY_RETENTION_MS. */
  idempotencyKeyRetention: IdempotencyKeyRetention;
}

export interface Platform {
  settings: Settings;
  services: RunningService[];
  bus: MessageBus;
  /** Stops everything in order: HTTP, consumers, relays (flushing marks), bus, databases, Redis. */
  stop(): Promise<void>;
}

export interface StartOptions {
  settings: Settings;
  services: readonly ServiceName[];
  log: Logger;
  /** HS256 secret for the embedded default when JWT_SECRET is unset (made under DATA_DIR by the caller). */
  embeddedSecret?: string;
}

/**
 * The composition root: the only place that picks adapters. Embedded default ⇒ PGlite + in-process bus +
 * memory de-duplication; distributed ⇒ PostgreSQL + RabbitMQ + Redis.
 */
export async function startPlatform({ settings, services, log, embeddedSecret }: StartOptions): Promise<Platform> {
  const embedded = settings.mode === 'embedded';
  const instanceId = `${process.pid}-${randomUUID().slice(0, 8)}`;
  const redis = settings.redisUrl
    ? new Redis(settings.redisUrl, {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        lazyConnect: false,
        // Commands issued in the same tick (dedup checks of concurrent deliveries) leave in one write.
        enableAutoPipelining: true,
      })
    : undefined;
  redis?.on('error', (err) =>
    log.warn({ err: err.message }, 'redis unavailable; de-duplication falls back to the inbox'),
  );
  const dedup: DedupCache = redis
    ? new RedisDedupCache({ redis, prefix: 'commerce:dedup:', ttlSeconds: settings.dedupTtlSeconds })
    : new MemoryDedupCache();

  const opened: { name: ServiceName; db: Database }[] = [];
  const started: RunningService[] = [];
  let bus: MessageBus | undefined;
  let emf: EmfReporter | undefined;
  const cleanup = async () => {
    await emf?.stop();
    for (const s of started.reverse()) {
      await s.app.close().catch(() => {});
      await s.parts.stop().catch(() => {});
      await s.relay.stop().catch(() => {});
      await s.inboxRetention.stop();
      await s.idempotencyKeyRetention.stop();
    }
    await bus?.close().catch(() => {});
    for (const { db } of opened) await db.close().catch(() => {});
    redis?.disconnect();
  };

  try {
    for (const name of services) {
      const db = await openDatabase({
        url: settings.databaseUrls[name],
        dataDir: settings.dataDir,
        name,
        migrations: MODULES[name].migrations,
        poolSize: settings.dbPoolSize,
        statementTimeoutMs: settings.dbStatementTimeoutMs,
        log,
      });
      opened.push({ name, db });
    }
    // Dead letters of the in-process bus must survive a crash: they live in the order database (or the first one).
    const dlqDb = (opened.find((o) => o.name === 'order') ?? opened[0])?.db;
    const activeBus: MessageBus = embedded
      ? new InProcessBus({
          log,
          deadLetterStore: dlqDb ? new DbDeadLetterStore(dlqDb) : undefined,
          defaultMaxAttempts: settings.maxDeliveryAttempts,
        })
      : new RabbitMqBus({
          url: settings.amqpUrl!,
          log,
          serviceName: services.join('+'),
          defaultMaxAttempts: settings.maxDeliveryAttempts,
          // The order service's operator routes list every service's dead letters, not only its own queues'.
          deadLetterQueues: Object.values(CONSUMER_QUEUES),
          // The saga's partitioned workers need the consistent-hash exchange: no plugin, no start (exit 2).
          requiredExchangeTypes: services.includes('order') ? [PARTITION_EXCHANGE] : [],
          queueType: settings.queueType,
        });
    bus = activeBus;
    await activeBus.start();

    const auth = settings.authDisabled
      ? ('disabled' as const)
      : settings.jwtJwksUrl
        ? createAuthVerifier({ jwksUrl: settings.jwtJwksUrl })
        : createAuthVerifier({ secret: settings.jwtSecret ?? embeddedSecret ?? '' });
    if (settings.authDisabled) log.warn('AUTH_DISABLED=true: every caller is treated as an admin');

    const prepared: { name: ServiceName; db: Database; ctx: ServiceContext<unknown>; app: FastifyInstance }[] = [];
    for (const { name, db } of opened) {
      const serviceLog = log.child({ service: name });
      // The saga's partitions this process owns (read at scrape time by commerce_partitions_owned).
      const ownerships: { count: number; ownership: PartitionOwnership }[] = [];
      const metricsRegistry = createMetricsRegistry(name);
      registerServiceMetrics(metricsRegistry, {
        db,
        bus: activeBus,
        partitions: () =>
          ownerships.map((o) => ({
            queue: CONSUMER_QUEUES.orderSaga,
            owned: o.ownership.current().size,
            count: o.count,
          })),
      });
      const ctx: ServiceContext<unknown> = {
        name,
        // Only what the service declared it reads.
        settings: MODULES[name].settingsOf(settings),
        log: serviceLog,
        db,
        bus: activeBus,
        dedup,
        instanceId,
        partitionOwnership: (count) => {
          const ownership = partitionOwnershipFor(db, { instanceId, count, log: serviceLog });
          ownerships.push({ count, ownership });
          return ownership;
        },
        now: () => new Date(),
        newId: () => randomUUID(),
      };
      const app = await createHttpServer({
        service: name,
        title: `${name} service`,
        version: '0.1.0',
        log: ctx.log,
        metricsRegistry,
        auth,
        rateLimit: settings.rateLimit,
        redis,
        readiness: {
          database: () => db.ping(),
          broker: async () => {
            const h = activeBus.health();
            if (!h.up) throw new Error(h.detail ?? 'message broker unreachable');
          },
        },
      });
      await MODULES[name].routes(app, ctx);
      prepared.push({ name, db, ctx, app });
    }
    // The operator surface (admin routes, console) is served by the order service's server, when this process runs it.
    const orderServer = prepared.find((p) => p.name === 'order');
    if (orderServer)
      await registerOperatorRoutes(orderServer.app, {
        bus: activeBus,
        dbs: { ...Object.fromEntries(opened.map((o) => [o.name, o.db])), order: orderServer.db },
        log: orderServer.ctx.log,
        peers: () => started,
        settings: operatorSettingsOf(settings),
      });
    // Every consumer subscribes before anything is published: a message published to an exchange with no queue
    // bound yet would be dropped by the broker (and, in-process, by the bus). What the consumers commit meanwhile
    // (a backlog) is held by the dispatcher, in commit order, and sent when its relay starts.
    const relays = new Map<ServiceName, OutboxRelay>();
    for (const p of prepared) {
      const relay = new OutboxRelay({
        db: p.db,
        bus: activeBus,
        log: p.ctx.log,
        retentionMs: settings.outboxRetentionMs,
        dispatchAtCommit: settings.outboxDispatch === 'commit',
        graceMs: settings.outboxRelayGraceMs,
        metrics: outboxPublishMetrics('relay'),
        dispatchMetrics: outboxPublishMetrics('dispatch'),
      });
      relay.prepare();
      relays.set(p.name, relay);
    }
    const parts = new Map<ServiceName, RunningParts>();
    for (const p of prepared) parts.set(p.name, await MODULES[p.name].start(p.ctx));
    for (const p of prepared) {
      const relay = relays.get(p.name)!;
      await relay.start();
      const inboxRetention = new InboxRetention({
        db: p.db,
        log: p.ctx.log,
        retentionMs: settings.inboxRetentionMs,
      });
      inboxRetention.start();
      const idempotencyKeyRetention = new IdempotencyKeyRetention({
        db: p.db,
        log: p.ctx.log,
        retentionMs: settings.idempotencyKeyRetentionMs,
      });
      idempotencyKeyRetention.start();
      await p.app.listen({ port: settings.ports[p.name], host: settings.host });
      const addr = p.app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : settings.ports[p.name];
      started.push({
        name: p.name,
        app: p.app,
        db: p.db,
        url: `http://${settings.host}:${port}`,
        parts: parts.get(p.name)!,
        relay,
        inboxRetention,
        idempotencyKeyRetention,
      });
    }
    // CloudWatch EMF lines (outbox lag, dead letters) when CLOUDWATCH_EMF_INTERVAL_MS is set (docs/deployment.md).
    if (settings.emf) {
      emf = new EmfReporter({ ...settings.emf, services: started, bus: activeBus, log });
      emf.start();
    }
  } catch (err) {
    await cleanup();
    throw err;
  }

  return {
    settings,
    services: started,
    bus: bus!,
    stop: cleanup,
  };
}
