/**
 * One worker process of src/partitions.int.test.ts: consumes the partitions its PostgreSQL lease
 * grants it and records every handled message (with its start and end) in the test database.
 * Env: DB_URL, AMQP_URL, INSTANCE_ID, QUEUE, PARTITIONS, LEASE_MS, HEARTBEAT_MS.
 */

import { RabbitMqBus } from '../../src/bus/rabbitmq.js';
import { PgDatabase } from '../../src/db/pg.js';
import { createLogger } from '../../src/log.js';
import { PgLeaseOwnership } from '../../src/partitions.js';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`partitionWorker: ${name} is required`);
  return v;
};
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', name: env('INSTANCE_ID') });
const me = env('INSTANCE_ID');
const db = new PgDatabase({ url: env('DB_URL'), log, poolSize: 8 });
const ownership = new PgLeaseOwnership({
  db,
  instanceId: me,
  count: Number(env('PARTITIONS')),
  leaseMs: Number(env('LEASE_MS')),
  heartbeatMs: Number(env('HEARTBEAT_MS')),
  log,
});
const bus = new RabbitMqBus({ url: env('AMQP_URL'), log, serviceName: me });
await bus.start();
const now = () => performance.timeOrigin + performance.now();
const sub = await bus.subscribe({
  queue: env('QUEUE'),
  bindings: [{ exchange: 'order_events', routingKey: 'order.#' }],
  prefetch: 8,
  partitions: { count: Number(env('PARTITIONS')), ownership },
  handler: async (d) => {
    const started = now();
    const seq = Number((d.envelope.data as { reasons: string[] }).reasons[0]);
    await new Promise((r) => setImmediate(r));
    const ended = now();
    await db.query(
      'INSERT INTO handled (order_id, seq, worker, partition_queue, started_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [d.envelope.orderId, seq, me, d.queue, started, ended],
    );
  },
});
process.stdout.write('ready\n');

process.on('SIGTERM', async () => {
  await sub.close();
  await bus.close();
  await db.close();
  process.exit(0);
});
