import type { FastifyInstance } from 'fastify';
import type { MessageBus } from './bus/port.js';
import type { ServiceName, Settings } from './config.js';
import type { Migration } from './db/migrate.js';
import type { Database } from './db/port.js';
import type { Logger } from './log.js';

/** Skips obvious duplicate messages fast (Redis SET NX EX, or memory). Never the record of truth. */
export interface DedupCache {
  /** True if the key was remembered recently. False when unknown *or* when the cache is unreachable. */
  seen(key: string): Promise<boolean>;
  remember(key: string): Promise<void>;
}

/** What the composition root hands each service. Time and ids come from here, never from Date/crypto in domain code. */
export interface ServiceContext {
  name: ServiceName;
  settings: Settings;
  log: Logger;
  db: Database;
  bus: MessageBus;
  dedup: DedupCache;
  /** Unique id of this process instance (partition leases, sweepers). */
  instanceId: string;
  now(): Date;
  newId(): string;
}

export interface RunningParts {
  /** Stops consumers and background jobs; in-flight work finishes or is handed back. */
  stop(): Promise<void>;
}

/** A deployable service: its schema, its HTTP routes, and its consumers and background jobs. */
export interface ServiceModule {
  name: ServiceName;
  /** The service's own migrations (the kernel's tables are applied before them). */
  migrations: readonly Migration[];
  routes(app: FastifyInstance, ctx: ServiceContext): Promise<void>;
  /** Subscribes its consumers and starts its background jobs (not the outbox relay: the launcher runs it). */
  start(ctx: ServiceContext): Promise<RunningParts>;
}
