/**
 * Webhook deliveries, driven by the event store (docs/webhooks.md): the `webhooks` subscription fans each matching
 * order event out into webhook_deliveries in the transaction that moves its checkpoint (no event lost, none written
 * twice), and the delivery worker of every order process sends what is due, under leases.
 */
import { randomUUID } from 'node:crypto';
import {
  type Database,
  EventSubscription,
  type Logger,
  type StoredEvent,
  type SubscriptionDefinition,
  type WebhookSettings,
  webhookMetrics,
} from '@commerce/kernel';
import { upcastOrderEvent } from '../application/eventVersions.js';
import { orderIdOfStream } from '../application/projections.js';
import { webhookBody, webhookHeaders } from '../application/webhookSignature.js';
import { decideAfterAttempt, matchesEndpoint, WEBHOOK_EVENT_TYPES } from '../domain/webhooks.js';
import {
  type ClaimedDelivery,
  claimDueDeliveries,
  nextDueAt,
  pruneWebhookLog,
  recordAttempt,
  webhookGauges,
} from './webhookDeliveries.js';
import { decryptSecret } from './webhookSecrets.js';
import { sendWebhook } from './webhookSender.js';
import { customersOfOrders, fanOutEndpoints, insertDeliveries, type NewDelivery } from './webhookStore.js';

/** The subscription's definition: order events → one delivery row per matching endpoint. */
export function webhookFanOut(onWritten?: () => void): SubscriptionDefinition {
  return {
    name: 'webhooks',
    eventTypes: WEBHOOK_EVENT_TYPES,
    onFailure: 'park',
    upcast: upcastOrderEvent,
    async handle(events: readonly StoredEvent[], tx) {
      const endpoints = await fanOutEndpoints(tx);
      if (endpoints.length === 0) return;
      const orderIds = [...new Set(events.map((e) => orderIdOfStream(e.streamId)).filter((x): x is string => !!x))];
      const customers = await customersOfOrders(tx, orderIds);
      const rows: NewDelivery[] = [];
      for (const e of events) {
        const orderId = orderIdOfStream(e.streamId) ?? null;
        const customerId = orderId ? customers.get(orderId) : undefined;
        const body = webhookBody({
          eventId: e.eventId,
          eventType: e.eventType,
          orderId,
          occurredAt: e.occurredAt,
          version: e.version,
          data: e.data,
        });
        // An endpoint gets the events recorded after it was created, not the history before it.
        for (const ep of endpoints)
          if (new Date(e.recordedAt) >= ep.createdAt && matchesEndpoint(ep, { eventType: e.eventType, customerId }))
            rows.push({
              endpointId: ep.endpointId,
              eventId: e.eventId,
              eventType: e.eventType,
              orderId,
              orderVersion: e.version,
              body,
            });
      }
      await insertDeliveries(tx, rows, new Date());
      if (rows.length > 0) onWritten?.();
    },
  };
}

export interface WebhookWorkerOptions {
  db: Database;
  instanceId: string;
  settings: WebhookSettings;
  subscriptionLeaseMs: number;
  maxAttempts: number;
  log: Logger;
  /** Deliveries sent at once (default 16). */
  concurrency?: number;
  /** Longest sleep between two looks for due deliveries (default 1 s). */
  pollMs?: number;
}

export interface RunningWebhooks {
  stop(): Promise<void>;
  /** Look for due deliveries now (after a redelivery, a test, an enabled endpoint). */
  wake(): void;
}

const GAUGE_EVERY_MS = 5_000;
const PRUNE_EVERY_MS = 3_600_000;

export async function startWebhooks(o: WebhookWorkerOptions): Promise<RunningWebhooks> {
  const s = o.settings;
  const owner = `${o.instanceId}/webhooks`;
  // A lease outlives the longest attempt: a duplicate only follows a process that died mid-send.
  const leaseMs = s.timeoutMs + 5_000;
  const concurrency = o.concurrency ?? 16;
  const pollMs = o.pollMs ?? 1_000;
  let stopped = false;
  let wakeUp: (() => void) | undefined;
  let woken = false;
  const wake = () => {
    woken = true;
    wakeUp?.();
  };
  const subscription = new EventSubscription(webhookFanOut(wake), {
    db: o.db,
    instanceId: o.instanceId,
    leaseMs: o.subscriptionLeaseMs,
    maxAttempts: o.maxAttempts,
    // Like the projections: under load one fan-out transaction per 100 ms of events, not one per commit.
    gatherMs: 100,
    log: o.log,
  });
  await subscription.start();

  const secretsOf = (d: ClaimedDelivery, now: Date): string[] => {
    if (!s.secretKey) throw new Error('WEBHOOK_SECRET_KEY is not set: the endpoint secrets cannot be read');
    const secrets = [decryptSecret(s.secretKey, d.secretEnc)];
    if (d.previousSecretEnc && d.previousSecretUntil && d.previousSecretUntil > now)
      secrets.push(decryptSecret(s.secretKey, d.previousSecretEnc));
    return secrets;
  };

  const deliver = async (d: ClaimedDelivery) => {
    const attemptedAt = new Date();
    let outcome: Awaited<ReturnType<typeof sendWebhook>>;
    try {
      const headers = webhookHeaders(secretsOf(d, attemptedAt), d.eventId, attemptedAt, d.body);
      outcome = await sendWebhook(d.url, headers, d.body, {
        timeoutMs: s.timeoutMs,
        bodyLimit: s.responseBodyLimit,
        allowPrivateNetworks: s.allowPrivateNetworks,
      });
    } catch (err) {
      outcome = { result: { error: (err as Error).message }, latencyMs: 0, responseBody: null };
    }
    const now = new Date();
    const attempt = d.attempts + 1;
    const decision = decideAfterAttempt({
      result: outcome.result,
      attempts: attempt,
      schedule: s.retryScheduleMs,
      random: Math.random(),
      now,
      failingSince: d.failingSince,
      disableAfterMs: s.disableAfterMs,
    });
    const r = outcome.result;
    const recorded = await recordAttempt(o.db, {
      deliveryId: d.deliveryId,
      endpointId: d.endpointId,
      owner,
      attempt,
      attemptedAt,
      statusCode: 'status' in r ? r.status : null,
      latencyMs: outcome.latencyMs,
      responseBody: outcome.responseBody,
      error: 'error' in r ? r.error : null,
      delivery: decision.delivery,
      endpoint: decision.endpoint,
      now,
    });
    webhookMetrics.latency.observe(outcome.latencyMs / 1000);
    if (!recorded) return;
    webhookMetrics.attempts.inc({ outcome: decision.endpoint.disable ? 'disabled' : decision.delivery.kind });
    if (decision.endpoint.disable)
      o.log.warn(
        { endpointId: d.endpointId, reason: decision.endpoint.disable },
        'webhook endpoint disabled (commerce webhooks enable ID turns it back on)',
      );
  };

  let lastGauges = 0;
  let lastPrune = 0;
  const housekeeping = async (now: Date) => {
    if (now.getTime() - lastGauges >= GAUGE_EVERY_MS) {
      lastGauges = now.getTime();
      const g = await webhookGauges(o.db, now);
      webhookMetrics.oldestPending.reset();
      for (const p of g.oldestPending) webhookMetrics.oldestPending.set({ endpoint: p.endpointId }, p.seconds);
      webhookMetrics.disabledEndpoints.set(g.disabled);
    }
    if (now.getTime() - lastPrune >= Math.min(PRUNE_EVERY_MS, s.logRetentionMs)) {
      lastPrune = now.getTime();
      await pruneWebhookLog(o.db, new Date(now.getTime() - s.logRetentionMs));
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopped) return resolve();
      const t = setTimeout(() => {
        wakeUp = undefined;
        resolve();
      }, ms);
      wakeUp = () => {
        clearTimeout(t);
        wakeUp = undefined;
        resolve();
      };
    });

  const loop = (async () => {
    while (!stopped) {
      woken = false;
      try {
        const now = new Date();
        await housekeeping(now);
        const claimed = await claimDueDeliveries(o.db, owner, now, leaseMs, concurrency);
        if (claimed.length > 0) {
          await Promise.all(
            claimed.map((d) =>
              deliver(d).catch((err) =>
                o.log.error({ err: (err as Error).message, deliveryId: d.deliveryId }, 'webhook attempt not recorded'),
              ),
            ),
          );
          continue;
        }
        const next = await nextDueAt(o.db);
        await sleep(next ? Math.min(pollMs, Math.max(10, next.getTime() - Date.now())) : pollMs);
      } catch (err) {
        o.log.warn({ err: (err as Error).message }, 'webhook worker: will try again');
        await sleep(pollMs);
      }
    }
  })();

  return {
    wake,
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
      await subscription.stop();
    },
  };
}

/** A fresh id for a test delivery's webhook-id. */
export const newTestEventId = (): string => randomUUID();
