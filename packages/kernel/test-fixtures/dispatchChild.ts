/**
 * A process of a service for the dispatch-at-commit tests (src/outboxDispatch.kill.int.test.ts). It commits changes
 * whose outbox messages it dispatches at commit, with its own relay as the safety net.
 *
 * env: DB_URL (the service's database, shared by every process of it), AMQP_URL, MODE, ORDERS (JSON list of order
 * ids), PER_ORDER (messages per order, one commit each, in sequence), GRACE_MS, FAIL_RATE (0..1).
 *  - MODE=kill: the process SIGKILLs itself the moment it would publish, after its first commit: commit, then death.
 *  - MODE=writer: publishes fail at random (FAIL_RATE): half of the failures are refusals (nothing sent), half lost
 *    confirms (sent, then reported failed: the row stays unmarked and goes out again). Reports {done} over IPC
 *    once its orders' messages are all committed.
 */
import { randomUUID } from 'node:crypto';
import { RabbitMqBus } from '../src/bus/rabbitmq.js';
import { PgDatabase } from '../src/db/pg.js';
import { commitEffect } from '../src/effect.js';
import { createLogger } from '../src/log.js';
import { OutboxRelay } from '../src/outboxRelay.js';
import { paymentMessage } from './outboxMessages.js';

const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set`);
  return v;
};
const log = createLogger({ level: 'silent' });
const mode = env('MODE');
const orders = JSON.parse(env('ORDERS')) as string[];
const perOrder = Number(env('PER_ORDER'));
const failRate = Number(process.env.FAIL_RATE ?? '0');

const db = new PgDatabase({ url: env('DB_URL'), poolSize: 4 });
const rabbit = new RabbitMqBus({ url: env('AMQP_URL'), log, serviceName: `dispatch-${mode}-${randomUUID()}` });
await rabbit.start();
const bus = {
  publish: async (messages: Parameters<RabbitMqBus['publish']>[0]) => {
    if (mode === 'kill') {
      process.kill(process.pid, 'SIGKILL');
      await new Promise(() => {});
    }
    const roll = Math.random();
    if (roll < failRate / 2) throw new Error('refused (test)');
    await rabbit.publish(messages);
    if (roll < failRate) throw new Error('confirm lost (test)');
  },
  onAvailable: (listener: () => void) => rabbit.onAvailable(listener),
};
const relay = new OutboxRelay({ db, bus, log, dispatchAtCommit: true, graceMs: Number(env('GRACE_MS')) });
await relay.start();
process.send?.({ started: true });

await Promise.all(
  orders.map(async (orderId) => {
    for (let seq = 1; seq <= perOrder; seq++)
      await commitEffect(db, { result: undefined, effect: { outbox: [paymentMessage(orderId, seq)] } });
  }),
);
process.send?.({ done: true });
