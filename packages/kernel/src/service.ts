import type { FastifyInstance } from 'fastify';
import type { MessageBus, PartitionOwnership } from './bus/port.js';
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

/**
 * What the composition root hands each service. Time and ids come from here, never from Date/crypto in domain code.
 * `S` is the settings the service reads (its module's `settingsOf`); a context without it (test harnesses) carries
 * every setting.
 */
export interface ServiceContext<S = Settings> {
  name: ServiceName;
  /** Only the settings the service declared it reads. */
  settings: S;
  log: Logger;
  db: Database;
  bus: MessageBus;
  dedup: DedupCache;
  /** Unique id of this process instance (partition leases, sweepers). */
  instanceId: string;
  /**
   * The partition-ownership adapter the composition root picked for this database (kernel `partitionOwnershipFor`:
   * leases in PostgreSQL, or every partition in this one process).
   */
  partitionOwnership: (count: number) => PartitionOwnership;
  now(): Date;
  newId(): string;
}

export interface RunningParts {
  /** Stops consumers and background jobs; in-flight work finishes or is handed back. */
  stop(): Promise<void>;
}

/** A deployable service: its schema, its HTTP routes, and its consumers and background jobs. */
export interface ServiceModule<S = unknown> {
  name: ServiceName;
  /** The service's own migrations (the kernel's tables are applied before them). */
  migrations: readonly Migration[];
  /** The settings this service reads: the composition root hands it these and nothing else. */
  settingsOf(settings: Settings): S;
  routes(app: FastifyInstance, ctx: ServiceContext<S>): Promise<void>;
  /** Subscribes its consumers and starts its background jobs (not the outbox relay: the launcher runs it). */
  start(ctx: ServiceContext<S>): Promise<RunningParts>;
}

/** The named settings and nothing else: what a module's `settingsOf` returns. */
export function pickSettings<K extends keyof Settings>(settings: Settings, keys: readonly K[]): Pick<Settings, K> {
  return Object.fromEntries(keys.map((k) => [k, settings[k]])) as Pick<Settings, K>;
}
