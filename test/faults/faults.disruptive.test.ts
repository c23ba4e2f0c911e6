/**
 * The fault suite (issue 8): the platform as separate processes (inventory, payment, two order workers) under a
 * steady load of orders with every kind of outcome, one kind of fault per scenario, then all of them together.
 * After each scenario: every accepted order final and present, `commerce audit --json` clean, no effect applied
 * twice, every injected poison message dead-lettered with its reason.
 *
 * Disruptive: it stops RabbitMQ (stop_app), flushes and restarts Redis. `npm test` runs it alone after the rest
 * (short form, a few seconds of load per scenario); `npm run test:faults` runs the full form (60 s per scenario).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { placeOrder, token, waitForFinal } from '../support/platform.js';
import { describeWith } from '../support/services.js';
import {
  allowDatabase,
  blockDatabase,
  CURRENCY,
  commerceAudit,
  type DeadLetter,
  deadLetters,
  duplicateEffects,
  ensureRedisUp,
  envelope,
  type FaultPlatform,
  FULL,
  formatResults,
  LOAD_MS,
  type LoadGenerator,
  MAY_COMPLETE,
  orderCount,
  orderStatuses,
  orderWorkerHoldingPartitions,
  PRODUCTS,
  partitionsHeldBy,
  pgQuery,
  RICH_CUSTOMERS,
  rabbitStartApp,
  rabbitStopApp,
  redisFlushAll,
  redisShutdown,
  type ScenarioResult,
  sampleInboxDuplicates,
  settle,
  sleepFor,
  startFaultPlatform,
  terminateConnections,
  WireTap,
  withLoad,
  writeResults,
  writeScenarioLog,
} from './harness.js';

const SCENARIO_TIMEOUT = FULL ? 900_000 : 150_000;
/** How often each fault is repeated within one scenario's load. */
const REPEATS = FULL ? 3 : 1;
/** How long a killed process or a stopped server stays down. */
const DOWN_MS = FULL ? 5_000 : 2_000;
const FINAL = new Set(['COMPLETED', 'CANCELLED', 'COMPENSATED', 'COMPENSATION_FAILED']);

/** Poison and re-ordered messages injected so far: where each must end up. */
interface ExpectedLetter {
  messageId: string;
  queues: string[];
  what: string;
}

describeWith(['postgres', 'rabbitmq', 'redis'], 'fault suite: the platform under faults', () => {
  let p: FaultPlatform;
  const results: ScenarioResult[] = [];
  const expectedLetters: ExpectedLetter[] = [];
  /** Orders the order service never heard of (rollback before create): their results are dead-lettered by the saga. */
  const phantomOrders = new Set<string>();
  const blocked = new Set<string>();
  /** Audit breaches and dead letters a failed scenario already reported (keys), so later ones are judged alone. */
  const reportedBreaches = new Set<string>();
  const reportedLetters = new Set<string>();
  let rabbitStopped = false;

  beforeAll(async () => {
    await ensureRedisUp();
    p = await startFaultPlatform();
  }, 240_000);

  afterAll(async () => {
    // Whatever happened, leave the shared servers as we found them.
    if (rabbitStopped) await rabbitStartApp().catch(() => {});
    await ensureRedisUp().catch(() => {});
    for (const db of blocked) await allowDatabase(db).catch(() => {});
    await p?.stop();
    if (results.length) {
      const file = writeResults(results, FULL ? 'full.json' : 'latest.json');
      console.info(`${formatResults(results)}\nwritten to ${file}`);
    }
  }, 120_000);

  /**
   * One scenario: load with `inject` running during it, then stop the load, settle, and check every invariant.
   * Figures are recorded before the assertions, so the summary shows a failing scenario too.
   */
  async function scenario(
    name: string,
    inject: (load: LoadGenerator, elapsed: () => number) => Promise<string[]>,
    { expectCompletions = true } = {},
  ): Promise<void> {
    const ordersBefore = await orderCount(p);
    const lettersBefore = (await deadLetters(p.vhost.vhost)).length;
    let faults: string[] = [];
    const absorbed = await sampleInboxDuplicates(p);
    const load = await withLoad(p, LOAD_MS, async (l, elapsed) => {
      faults = await inject(l, elapsed);
    });
    const ids = [...load.accepted.keys()];
    // A crash is a finding: name it, then restart the process so that the checks (and later scenarios) can run.
    const crashes = p.crashes.splice(0);
    const crashText = crashes
      .map((c) => `${c.name} (pid ${c.pid}) exited with ${c.code}:\n${c.output.slice(-6000)}`)
      .join('\n');
    for (const c of crashes) await p.restart(c.name);
    // A scenario that does not settle is still measured and audited (its figures name what is stuck).
    let settleError = '';
    const settleMs = await settle(p, ids).catch((err: Error) => {
      settleError = err.message;
      return -1;
    });
    writeScenarioLog(name, p.logs());
    const audit = await commerceAudit(p);
    // Breaches already reported by an earlier (failed) scenario are not counted again: each scenario answers for
    // what it added. The earlier scenario has failed already.
    const breachKey = (b: {
      invariant: number;
      message: string;
      orderId?: string;
      productId?: string;
      customerId?: string;
    }) => `${b.invariant}:${b.orderId ?? ''}:${b.productId ?? ''}:${b.customerId ?? ''}:${b.orderId ? '' : b.message}`;
    const newBreaches = audit.report.breaches.filter((b) => !reportedBreaches.has(breachKey(b)));
    for (const b of audit.report.breaches) reportedBreaches.add(breachKey(b));
    const dups = await duplicateEffects(p);
    const duplicatesAbsorbed = await absorbed.stop();
    const statuses = await orderStatuses(p, ids);
    // The DLQ publish of a poison message may still be on its way: wait for every one we expect.
    const letters = await waitForLetters();
    const unexpected = unexpectedLetters(letters);
    const byStatus: Record<string, number> = {};
    for (const s of statuses.values()) byStatus[s] = (byStatus[s] ?? 0) + 1;
    results.push({
      scenario: name,
      ordersAccepted: ids.length,
      faultsInjected: faults.length,
      faults,
      ordersFinal: [...statuses.values()].filter((s) => FINAL.has(s)).length,
      invariantBreaches: newBreaches.length,
      duplicatesApplied: dups.length,
      duplicatesAbsorbed,
      messagesDeadLettered: letters.length - lettersBefore,
      realMessagesDeadLettered: unexpected.length,
      timeToSettleMs: settleMs,
      ...(settleError ? { notSettled: settleError.split('\n')[1]?.slice(0, 2000) } : {}),
      clientRetries: load.figures.retries,
      returns: load.figures.returns,
      crashes: crashes.length,
      byStatus,
    });

    expect(crashText, 'no service process crashed').toBe('');
    expect(settleError, 'every accepted order final before the deadline').toBe('');
    expect(faults.length, 'faults injected').toBeGreaterThan(0);
    expect(ids.length, 'orders accepted under load').toBeGreaterThan(0);
    expect(load.figures.rejected, 'no request refused with a 4xx').toEqual([]);
    expect(load.figures.gaveUp, 'every request answered 202 in the end').toBe(0);
    // Returns in the mix (returnsMix.ts): every one asked got an answer (202, or 409 for a retry that had committed).
    expect(load.figures.returns.gaveUp, 'every return request answered').toBe(0);
    // Retried requests (same Idempotency-Key) never made a second order.
    expect((await orderCount(p)) - ordersBefore, 'orders created = distinct orders accepted').toBe(ids.length);
    expect(statuses.size, 'every accepted order present').toBe(ids.length);
    expect([...statuses.entries()].filter(([, s]) => !FINAL.has(s))).toEqual([]);
    expect(newBreaches, JSON.stringify(newBreaches.slice(0, 10))).toEqual([]);
    // The audit's exit code reflects every breach, also those an earlier scenario reported.
    expect(audit.exitCode, audit.stderr).toBe(newBreaches.length === audit.report.breaches.length ? 0 : 1);
    expect(audit.report.ok).toBe(audit.report.breaches.length === 0);
    expect(dups, 'effects applied twice').toEqual([]);
    // An order that could not succeed never completes; in stock ones complete unless a fault cancelled them.
    for (const [id, kind] of load.accepted)
      if (!MAY_COMPLETE.has(kind)) expect(statuses.get(id), `${kind} order ${id}`).not.toBe('COMPLETED');
    if (expectCompletions) expect(byStatus.COMPLETED ?? 0, 'some orders completed').toBeGreaterThan(0);
    checkLetters(letters, unexpected);
  }

  async function waitForLetters(): Promise<DeadLetter[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const letters = await deadLetters(p.vhost.vhost);
      const missing = expectedLetters.some((e) =>
        e.queues.some((q) => !letters.some((l) => l.queue === `${q}.dlq` && l.messageId === e.messageId)),
      );
      const phantomsPending = [...phantomOrders].some(
        (o) => !letters.some((l) => l.queue === 'order.saga.dlq' && l.correlationId === o),
      );
      if ((!missing && !phantomsPending) || Date.now() > deadline) return letters;
      await sleepFor(500);
    }
  }

  /** Dead letters that are neither injected nor already reported: real messages (recorded as reported at once). */
  function unexpectedLetters(letters: DeadLetter[]): DeadLetter[] {
    const unexpected = letters.filter(
      (l) =>
        !expectedLetters.some((e) => e.messageId === l.messageId) &&
        !(l.queue === 'order.saga.dlq' && phantomOrders.has(l.correlationId ?? '')) &&
        !reportedLetters.has(`${l.queue}:${l.messageId}`),
    );
    for (const l of letters) reportedLetters.add(`${l.queue}:${l.messageId}`);
    return unexpected;
  }

  /** Every poison message sits in each dead-letter queue it must reach, with its reason; nothing else does. */
  function checkLetters(letters: DeadLetter[], unexpected: DeadLetter[]) {
    for (const e of expectedLetters)
      for (const q of e.queues) {
        const l = letters.find((x) => x.queue === `${q}.dlq` && x.messageId === e.messageId);
        expect(l, `${e.what} (${e.messageId}) in ${q}.dlq`).toBeDefined();
        expect(l?.reason, `reason of ${e.what}`).toMatch(/\S/);
      }
    for (const l of letters) expect(l.reason, `dead letter ${l.messageId} in ${l.queue} has a reason`).toMatch(/\S/);
    expect(unexpected, 'real messages dead-lettered').toEqual([]);
  }

  /** Repeats `fault` REPEATS times, spread over the load; returns the names of the faults injected. */
  async function repeatedly(elapsed: () => number, fault: (i: number) => Promise<string>): Promise<string[]> {
    const done: string[] = [];
    const gap = LOAD_MS / (REPEATS + 1);
    for (let i = 0; i < REPEATS; i++) {
      const at = gap * (i + 1) - gap / 2;
      if (elapsed() < at) await sleepFor(at - elapsed());
      done.push(await fault(i));
    }
    return done;
  }

  for (const name of ['inventory', 'payment'] as const)
    it(
      `SIGKILL of the ${name} process, restarted after a few seconds`,
      async () => {
        await scenario(`kill-${name}`, (_l, elapsed) =>
          repeatedly(elapsed, async (i) => {
            await p.kill(name);
            await sleepFor(DOWN_MS);
            await p.restart(name);
            return `SIGKILL ${name} #${i + 1}`;
          }),
        );
      },
      SCENARIO_TIMEOUT,
    );

  it(
    'SIGKILL of an order worker while it holds partitions, restarted after a few seconds',
    async () => {
      await scenario('kill-order-worker', (_l, elapsed) =>
        repeatedly(elapsed, async (i) => {
          const victim = await orderWorkerHoldingPartitions(p);
          const held = await partitionsHeldBy(p, victim as 'order1' | 'order2');
          expect(held).toBeGreaterThan(0);
          await p.kill(victim);
          await sleepFor(DOWN_MS);
          await p.restart(victim);
          return `SIGKILL ${victim} holding ${held} partitions #${i + 1}`;
        }),
      );
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'RabbitMQ stop_app / start_app under load',
    async () => {
      await scenario('rabbitmq-stop-app', (_l, elapsed) =>
        repeatedly(elapsed, async (i) => {
          rabbitStopped = true;
          await rabbitStopApp();
          await sleepFor(DOWN_MS);
          await rabbitStartApp();
          rabbitStopped = false;
          return `rabbitmqctl stop_app/start_app #${i + 1}`;
        }),
      );
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'Redis FLUSHALL and a Redis restart under load',
    async () => {
      await scenario('redis-flush-restart', (_l, elapsed) =>
        repeatedly(elapsed, async (i) => {
          await redisFlushAll();
          await sleepFor(DOWN_MS / 2);
          await redisShutdown();
          await sleepFor(DOWN_MS);
          await ensureRedisUp();
          return `redis FLUSHALL + shutdown nosave/restart #${i + 1}`;
        }),
      );
    },
    SCENARIO_TIMEOUT,
  );

  it(
    "a service's PostgreSQL connections terminated, then its database unreachable for a few seconds",
    async () => {
      const targets = ['inventory', 'order', 'payment'] as const;
      await scenario('postgres-terminate-block', (_l, elapsed) =>
        repeatedly(elapsed, async (i) => {
          const svc = targets[i % targets.length]!;
          const db = p.dbs[svc].name;
          const n = await terminateConnections(db);
          await sleepFor(DOWN_MS / 2);
          blocked.add(db);
          await blockDatabase(db);
          await sleepFor(DOWN_MS * 1.5);
          await allowDatabase(db);
          blocked.delete(db);
          return `${svc}: ${n} connections terminated, then database unreachable ${DOWN_MS * 1.5} ms`;
        }),
      );
    },
    SCENARIO_TIMEOUT,
  );

  /** Duplicates of real envelopes, a rollback before its create, invalid JSON and schema-invalid envelopes. */
  async function injectMessages(tap: WireTap, load: LoadGenerator, round: number): Promise<string[]> {
    const faults: string[] = [];
    // Copies of real envelopes (orders the clients placed), each published twice with the same message id.
    const captured = (await tap.drain()).filter((m) => {
      try {
        const e = JSON.parse(m.content.toString()) as { orderId?: string };
        return !!e.orderId && load.accepted.has(e.orderId);
      } catch {
        return false;
      }
    });
    for (const m of captured) {
      await tap.republish(m);
      await tap.republish(m);
    }
    faults.push(`${captured.length} real envelopes republished twice (same message id)`);

    // A rollback request before its create, for an order id; then the create twice under one message id.
    const phantom = randomUUID();
    phantomOrders.add(phantom);
    const product = PRODUCTS[0]!;
    const customerId = RICH_CUSTOMERS[0]!;
    const total = 2 * product.unitPrice;
    const send = async (e: ReturnType<typeof envelope>) =>
      tap.publish('order_events', e.eventType.toLowerCase().replaceAll('_', '.'), JSON.stringify(e), {
        messageId: e.eventId,
        type: e.eventType,
        correlationId: e.orderId,
      });
    await send(envelope('ORDER_INVENTORY_ROLLBACK_REQUESTED', phantom, {}));
    await send(envelope('ORDER_PAYMENT_ROLLBACK_REQUESTED', phantom, { amount: total, currency: CURRENCY }));
    const created = envelope('ORDER_CREATED', phantom, {
      customerId,
      currency: CURRENCY,
      items: [{ productId: product.productId, quantity: 2, unitPrice: product.unitPrice }],
      totalAmount: total,
    });
    await send(created);
    await send(created);
    faults.push(`rollbacks before ORDER_CREATED for ${phantom}, the create twice under one message id`);

    // Poison: not JSON, and envelopes failing their schema, on each exchange a consumer reads.
    const poison = async (
      exchange: string,
      routingKey: string,
      body: string,
      queues: string[],
      what: string,
    ): Promise<void> => {
      const messageId = `poison-${round}-${expectedLetters.length}-${randomUUID().slice(0, 8)}`;
      await tap.publish(exchange, routingKey, body, {
        messageId,
        type: routingKey.toUpperCase().replaceAll('.', '_'),
        correlationId: randomUUID(),
      });
      expectedLetters.push({ messageId, queues, what });
      faults.push(`poison: ${what}`);
    };
    const bothOrderQueues = ['inventory.order_events', 'payment.order_events'];
    await poison('order_events', 'order.created', '{"eventId": "not closed', bothOrderQueues, 'invalid JSON');
    await poison(
      'order_events',
      'order.created',
      JSON.stringify(envelope('ORDER_CREATED', randomUUID(), { customerId: 42, items: 'none' })),
      bothOrderQueues,
      'ORDER_CREATED with schema-invalid data',
    );
    const { eventId: _dropped, ...noId } = envelope('ORDER_CANCELLED', randomUUID(), {
      reasons: [],
      requiresRefund: true,
      requiresInventoryRollback: true,
    });
    await poison('order_events', 'order.cancelled', JSON.stringify(noId), bothOrderQueues, 'envelope without eventId');
    await poison('inventory_events', 'inventory.reserved', 'not json at all', ['order.saga'], 'invalid JSON result');
    await poison(
      'payment_events',
      'payment.approved',
      JSON.stringify(envelope('PAYMENT_APPROVED', randomUUID(), { amount: -5, currency: 'euro' }, 'payment')),
      ['order.saga'],
      'PAYMENT_APPROVED with schema-invalid data',
    );
    return faults;
  }

  /** The phantom order: no stock and no money held, whatever order its messages came in. */
  async function checkPhantoms() {
    for (const orderId of phantomOrders) {
      const reservation = await pgQuery(
        p.dbs.inventory.url,
        'SELECT status FROM reservations WHERE order_id::text = $1',
        [orderId],
      );
      expect(['RESERVED', 'COMMITTED']).not.toContain(reservation[0]?.status);
      const money = await pgQuery(
        p.dbs.payment.url,
        'SELECT coalesce(sum(delta), 0)::bigint AS net FROM money_movements WHERE order_id::text = $1',
        [orderId],
      );
      expect(Number(money[0]?.net), `money moved for phantom ${orderId}`).toBe(0);
    }
  }

  it(
    'duplicated, re-ordered and poison messages published straight to the exchanges',
    async () => {
      const tap = await WireTap.open(p.vhost.url);
      try {
        await scenario('messages-dup-reorder-poison', async (load, elapsed) => {
          const faults: string[] = [];
          for (let i = 0; i < REPEATS; i++) {
            const at = (LOAD_MS / (REPEATS + 1)) * (i + 1);
            if (elapsed() < at) await sleepFor(at - elapsed());
            faults.push(...(await injectMessages(tap, load, i)));
          }
          return faults;
        });
        await checkPhantoms();
      } finally {
        await tap.close();
      }
    },
    SCENARIO_TIMEOUT,
  );

  it(
    'all the faults together',
    async () => {
      await scenario(
        'all-together',
        async (load, elapsed) => {
          const faults: string[] = [];
          const step = async (at: number, what: () => Promise<string | string[]>) => {
            if (elapsed() < at) await sleepFor(at - elapsed());
            const r = await what();
            faults.push(...(Array.isArray(r) ? r : [r]));
          };
          const unit = LOAD_MS / 8;
          await step(unit, async () => {
            await p.kill('inventory');
            return 'SIGKILL inventory';
          });
          await step(unit * 1.5, async () => {
            await redisFlushAll();
            return 'redis FLUSHALL';
          });
          await step(unit * 2, async () => {
            const tap = await WireTap.open(p.vhost.url);
            try {
              return await injectMessages(tap, load, 100);
            } finally {
              await tap.close();
            }
          });
          await step(unit * 2.5, async () => {
            const n = await terminateConnections(p.dbs.payment.name);
            return `payment: ${n} PostgreSQL connections terminated`;
          });
          await step(unit * 3, async () => {
            rabbitStopped = true;
            await rabbitStopApp();
            return 'rabbitmqctl stop_app';
          });
          await step(unit * 3.5, async () => {
            await redisShutdown();
            return 'redis shutdown nosave';
          });
          await step(unit * 4, async () => {
            const db = p.dbs.order.name;
            blocked.add(db);
            await blockDatabase(db);
            await sleepFor(DOWN_MS);
            await allowDatabase(db);
            blocked.delete(db);
            return `order database unreachable ${DOWN_MS} ms`;
          });
          await step(unit * 5, async () => {
            await rabbitStartApp();
            rabbitStopped = false;
            await ensureRedisUp();
            await p.restart('inventory');
            return ['rabbitmqctl start_app', 'redis restarted', 'inventory restarted'];
          });
          await step(unit * 6, async () => {
            const victim = await orderWorkerHoldingPartitions(p);
            await p.kill(victim);
            await sleepFor(DOWN_MS);
            await p.restart(victim);
            return `SIGKILL ${victim} (restarted after ${DOWN_MS} ms)`;
          });
          return faults;
          // Faults overlap until the end of the load, so most of its orders are cancelled by design; liveness is
          // shown by a fresh order below instead.
        },
        { expectCompletions: false },
      );
      await checkPhantoms();
      // After everything, the platform still completes an order.
      const customer = RICH_CUSTOMERS[1]!;
      const bearer = await token(p.secret, customer, 'customer');
      const product = PRODUCTS[1]!;
      const orderId = await placeOrder(p.orderUrls()[0]!, bearer, {
        customerId: customer,
        currency: CURRENCY,
        items: [{ productId: product.productId, quantity: 1, unitPrice: product.unitPrice }],
      });
      expect((await waitForFinal(p.orderUrls()[0]!, bearer, orderId)).status).toBe('COMPLETED');
    },
    SCENARIO_TIMEOUT,
  );
});
