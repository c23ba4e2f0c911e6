/**
 * Two delivery workers (two order processes) on one PostgreSQL database: under leases and FOR UPDATE SKIP LOCKED
 * no attempt is sent twice, every delivery arrives, and each order's events reach the endpoint in order even when
 * some attempts fail and are retried.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger, KERNEL_MIGRATIONS, migrate, PgDatabase, type WebhookSettings } from '@commerce/kernel';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../../test/support/services.js';
import { startReceiver, type WebhookReceiver } from '../../../../test/support/webhookReceiver.js';
import { newWebhookSecret } from '../application/webhookSignature.js';
import { orderMigrations } from './migrations.js';
import { deliveryLog } from './webhookDeliveries.js';
import { encryptSecret } from './webhookSecrets.js';
import { insertDeliveries, insertEndpoint, type NewDelivery } from './webhookStore.js';
import { type RunningWebhooks, startWebhooks } from './webhookWorker.js';

const log = createLogger({ level: 'silent' });

describeWith(['postgres'], 'webhook delivery workers on PostgreSQL', () => {
  let t: { url: string; drop(): Promise<void> };
  const dbs: PgDatabase[] = [];
  const workers: RunningWebhooks[] = [];
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await createTestDatabase('webhooks');
    for (let i = 0; i < 2; i++) dbs.push(new PgDatabase({ url: t.url, poolSize: 4 }));
    await migrate(dbs[0]!, 'kernel', KERNEL_MIGRATIONS);
    await migrate(dbs[0]!, 'order', orderMigrations);
    receiver = await startReceiver();
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    for (const db of dbs) await db.close();
    await receiver?.close();
    await t?.drop();
  });

  it('two workers: each attempt sent once, every delivery arrives, in order per order', {
    timeout: 60_000,
  }, async () => {
    const key = randomBytes(32);
    const secret = newWebhookSecret();
    const settings: WebhookSettings = {
      retryScheduleMs: [50, 100, 200, 400],
      timeoutMs: 2000,
      allowInsecure: true,
      allowPrivateNetworks: true,
      secretKey: key,
      secretKeySource: 'setting',
      disableAfterMs: 86_400_000,
      logRetentionMs: 86_400_000,
      responseBodyLimit: 100,
    };
    const db = dbs[0]!;
    const ep = await insertEndpoint(db, {
      endpointId: randomUUID(),
      url: `${receiver.url}/race`,
      eventTypes: ['*'],
      customerId: null,
      description: 'race',
      secretEnc: encryptSecret(key, secret),
      now: new Date(),
    });
    receiver.secrets.set('/race', { s: secret });
    // One attempt in five fails (the first of an event only), and answers take a little while.
    receiver.respond = (r, previous) =>
      new Promise((ok) =>
        setTimeout(() => ok(previous.length === 0 && r.id.charCodeAt(0) % 5 === 0 ? 500 : 200), Math.random() * 15),
      );
    const rows: NewDelivery[] = [];
    for (let o = 0; o < 30; o++) {
      const orderId = randomUUID();
      for (let v = 1; v <= 4; v++) {
        const eventId = randomUUID();
        rows.push({
          endpointId: ep.endpointId,
          eventId,
          eventType: 'ORDER_CREATED',
          orderId,
          orderVersion: v,
          body: JSON.stringify({ id: eventId, orderId, version: v }),
        });
      }
    }
    await insertDeliveries(db, rows, new Date());
    for (const [i, d] of dbs.entries())
      workers.push(
        await startWebhooks({
          db: d,
          instanceId: `worker-${i}`,
          settings,
          subscriptionLeaseMs: 5000,
          maxAttempts: 5,
          log,
          concurrency: 8,
          pollMs: 100,
        }),
      );
    const done = await waitFor(
      async () => {
        const all = await deliveryLog(db, { endpointId: ep.endpointId, limit: 500 });
        return all.every((d) => d.status === 'succeeded') ? all : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 200, what: 'every delivery to succeed' },
    );
    expect(done).toHaveLength(rows.length);
    const got = receiver.of('/race');
    // Each attempt was sent once: as many requests as attempts logged, one 200 per event.
    expect(got.length).toBe(done.reduce((n, d) => n + d.attempts, 0));
    for (const d of done) {
      const requests = got.filter((r) => r.id === d.eventId);
      expect(requests.map((r) => r.answered)).toEqual(d.log.map((a) => a.statusCode));
      expect(requests.filter((r) => r.answered === 200)).toHaveLength(1);
      expect(requests.every((r) => r.verifiedBy.includes('s'))).toBe(true);
    }
    expect(done.some((d) => d.attempts > 1)).toBe(true);
    // In order per order: no request for version v+1 before version v was answered 200.
    const byOrder = new Map<string, number[]>();
    for (const r of got) byOrder.set(r.payload.orderId, [...(byOrder.get(r.payload.orderId) ?? []), r.payload.version]);
    for (const versions of byOrder.values()) expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });
});
