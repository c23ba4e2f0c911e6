/**
 * Business metrics (docs/observability.md), named after the Prometheus conventions: units in the name, `_total`
 * for counters. Two kinds:
 * - process-wide counters and histograms, counted on the hot path (a delivery's outcome, a publish, a saga's
 *   end); every service registry of the process shows them (one process runs one service in production);
 * - per-service gauges read at scrape time, one cheap read each (the outbox's unpublished rows with one query on
 *   its partial index, the pool's counters, the partitions this process owns, the dead-letter queues' depth).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import type { MessageBus } from './bus/port.js';
import type { Database } from './db/port.js';

export type DeliveryOutcome = 'handled' | 'duplicate' | 'retried' | 'dead_lettered';

export const consumerDeliveriesTotal = new Counter({
  name: 'commerce_consumer_deliveries_total',
  help: 'Message deliveries to a consumer, by queue (a partitioned queue as one) and outcome (handled, duplicate, retried, dead_lettered)',
  labelNames: ['queue', 'outcome'],
  registers: [],
});

export const outboxPublishedMessagesTotal = new Counter({
  name: 'commerce_outbox_published_messages_total',
  help: 'Outbox messages confirmed by the broker, by path (dispatch at commit, or the relay)',
  labelNames: ['path'],
  registers: [],
});

export const outboxPublishBatchesTotal = new Counter({
  name: 'commerce_outbox_publish_batches_total',
  help: 'Outbox publish batches, by path (dispatch, relay) and result (published, failed)',
  labelNames: ['path', 'result'],
  registers: [],
});

export const outboxPublishLagSeconds = new Histogram({
  name: 'commerce_outbox_publish_lag_seconds',
  help: 'Time from an outbox row commit to its broker confirmation, by path (dispatch, relay)',
  labelNames: ['path'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [],
});

export const sagaOutcomesTotal = new Counter({
  name: 'commerce_saga_outcomes_total',
  help: 'Orders that reached a final status, by status',
  labelNames: ['status'],
  registers: [],
});

export const orderToFinalSeconds = new Histogram({
  name: 'commerce_order_to_final_seconds',
  help: 'Time from an order being placed to its final status, by status',
  labelNames: ['status'],
  buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers: [],
});

export const buildInfo = new Gauge({
  name: 'commerce_build_info',
  help: 'Always 1; the labels say which build runs (version, Node.js version)',
  labelNames: ['version', 'node_version'],
  registers: [],
});
buildInfo.set({ version: process.env.npm_package_version ?? '0.1.0', node_version: process.version }, 1);

/** Process-wide metrics every service registry shows. */
export const PROCESS_METRICS: readonly Metric<string>[] = [
  consumerDeliveriesTotal,
  outboxPublishedMessagesTotal,
  outboxPublishBatchesTotal,
  outboxPublishLagSeconds,
  sagaOutcomesTotal,
  orderToFinalSeconds,
  buildInfo,
] as unknown as Metric<string>[];

/** Counts a publish batch of the outbox (the relay's and the dispatcher's OutboxMetrics / DispatchMetrics). */
export function outboxPublishMetrics(path: 'dispatch' | 'relay') {
  return {
    published(count: number, lagsMs: number[]): void {
      outboxPublishBatchesTotal.inc({ path, result: 'published' });
      outboxPublishedMessagesTotal.inc({ path }, count);
      for (const lag of lagsMs) outboxPublishLagSeconds.observe({ path }, lag / 1000);
    },
    failed(): void {
      outboxPublishBatchesTotal.inc({ path, result: 'failed' });
    },
  };
}

/** An order reached `status` (final) `seconds` after it was placed. */
export function recordSagaOutcome(status: string, seconds: number): void {
  sagaOutcomesTotal.inc({ status });
  if (Number.isFinite(seconds) && seconds >= 0) orderToFinalSeconds.observe({ status }, seconds);
}

/** The delivery being handled: commitChange marks it a duplicate when the inbox (or the cache) recognised it. */
const deliveryScope = new AsyncLocalStorage<{ duplicate: boolean }>();

export function runDelivery<T>(fn: () => T): { result: T; wasDuplicate: () => boolean } {
  const mark = { duplicate: false };
  return { result: deliveryScope.run(mark, fn), wasDuplicate: () => mark.duplicate };
}

export function noteDuplicateDelivery(): void {
  const mark = deliveryScope.getStore();
  if (mark) mark.duplicate = true;
}

/** What a service's scrape-time gauges read. */
export interface ServiceMetricSources {
  db: Database;
  bus?: Pick<MessageBus, 'deadLetters'>;
  /** The partitioned queues this process consumes: how many partitions each has and how many it owns now. */
  partitions?: () => Iterable<{ queue: string; owned: number; count: number }>;
}

interface PoolLike {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options?: { max?: number };
}

/** The outbox rows not yet published and the age of the oldest, in seconds (one query on the partial index). */
export async function readOutboxBacklog(
  db: Pick<Database, 'query'>,
): Promise<{ rows: number; oldestAgeSeconds: number }> {
  const r = await db.query<{ n: number | string; age: number | string | null }>(
    `SELECT count(*) AS n, extract(epoch FROM (now() - min(created_at))) AS age
       FROM outbox WHERE published_at IS NULL`,
  );
  return { rows: Number(r.rows[0]?.n ?? 0), oldestAgeSeconds: Math.max(0, Number(r.rows[0]?.age ?? 0)) };
}

/** Registers the per-service gauges, read at scrape time, on `registry`. */
export function registerServiceMetrics(registry: Registry, src: ServiceMetricSources): void {
  const unpublished = new Gauge({
    name: 'commerce_outbox_unpublished_messages',
    help: 'Outbox rows not yet published, of this service',
    registers: [registry],
  });
  new Gauge({
    name: 'commerce_outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest outbox row not yet published, of this service (0 when none)',
    registers: [registry],
    async collect() {
      try {
        const backlog = await readOutboxBacklog(src.db);
        unpublished.set(backlog.rows);
        this.set(backlog.oldestAgeSeconds);
      } catch {
        // Database down: the gauges keep their last value; readiness says the database is down.
      }
    },
  });
  new Gauge({
    name: 'commerce_db_pool_connections',
    help: 'Database pool connections of this service, by state (total, idle, waiting clients, max)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const pool = (src.db as unknown as { pool?: PoolLike }).pool;
      if (!pool) return;
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
      if (pool.options?.max !== undefined) this.set({ state: 'max' }, pool.options.max);
    },
  });
  if (src.partitions) {
    const partitions = src.partitions;
    new Gauge({
      name: 'commerce_partitions_configured',
      help: 'Partitions of a partitioned queue (PARTITION_COUNT), by queue',
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        for (const { queue, count } of partitions()) this.set({ queue }, count);
      },
    });
    new Gauge({
      name: 'commerce_partitions_owned',
      help: 'Partitions of a partitioned queue this process consumes now, by queue',
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        for (const { queue, owned } of partitions()) this.set({ queue }, owned);
      },
    });
  }
  if (src.bus) {
    const bus = src.bus;
    new Gauge({
      name: 'commerce_dead_letter_messages',
      help: 'Messages in the dead-letter queue of each consumer queue',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        try {
          const queues = await bus.deadLetters.queues();
          for (const { queue, depth } of queues) this.set({ queue }, depth);
        } catch {
          // Broker down: the last depth stays; the broker's health says it is down.
        }
      },
    });
  }
}
