/**
 * A process running one checkpointed subscription, for the crash and take-over tests (subscription.kill.int.test.ts).
 * Its handler records every event it is given in `applied` (seq gives the order of application); the parent
 * SIGKILLs it at any moment.
 *
 * env: DB_URL, INSTANCE_ID, LEASE_MS, BATCH_SIZE. IPC to the parent: { leader: boolean }, { handled: number }.
 */
import { PgDatabase } from '../src/db/pg.js';
import { createLogger } from '../src/log.js';
import { EventSubscription } from '../src/subscription.js';
import { recordApplied } from './subscriptionProjection.js';

const url = process.env.DB_URL;
const instanceId = process.env.INSTANCE_ID;
if (!url || !instanceId) throw new Error('DB_URL and INSTANCE_ID must be set');

const db = new PgDatabase({ url, poolSize: 3 });
const subscription = new EventSubscription(
  { name: 'kill-test', onFailure: 'stop', handle: recordApplied },
  {
    db,
    instanceId,
    leaseMs: Number(process.env.LEASE_MS ?? 2000),
    batchSize: Number(process.env.BATCH_SIZE ?? 50),
    pollIntervalMs: 1000,
    log: createLogger({ level: 'silent' }),
    onLeadership: (leader) => process.send?.({ leader }),
    onBatch: (b) => process.send?.({ handled: b.handled }),
  },
);
await subscription.start();
process.send?.({ started: true });
