/**
 * Webhooks survive a SIGKILL of the delivering process (issue 20): deliveries pending at the kill all arrive after
 * the restart, and any duplicate (an attempt in flight at the kill, sent again once its lease ran out) carries the
 * same webhook-id and body.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  http,
  type PlatformProcess,
  placeOrder,
  startProcess,
  tempDataDir,
  waitForFinal,
} from '../support/platform.js';
import { describeWith, waitFor } from '../support/services.js';
import { startReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';
import { createEndpoint, eventsOf, mixedOrder, WEBHOOK_TEST_ENV } from '../support/webhooks.js';

describeWith([], 'webhooks across a SIGKILL', () => {
  const data = tempDataDir();
  const running: PlatformProcess[] = [];
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    // A slow receiver: deliveries queue up behind each order's earlier ones, so some are pending at the kill.
    receiver.respond = () => new Promise((r) => setTimeout(() => r(200), 150));
  });
  afterAll(async () => {
    for (const p of running) await p.kill();
    await receiver?.close();
    data.remove();
  });

  it('a SIGKILL with deliveries pending loses none; duplicates carry the same webhook-id', {
    timeout: 240_000,
  }, async () => {
    const env = { DATA_DIR: data.dir, ...WEBHOOK_TEST_ENV, WEBHOOK_TIMEOUT_MS: '2000' };
    const first = await startProcess('all', env, { timeoutMs: 90_000 });
    running.push(first);
    const order = first.urls.order!;
    const admin = first.tokens.admin!;
    const ep = await createEndpoint(order, admin, { url: `${receiver.url}/k` });
    receiver.secrets.set('/k', { s: ep.secret });
    const orderIds = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        const o = mixedOrder(i);
        return placeOrder(order, first.tokens[o.customer]!, o.body);
      }),
    );
    await waitFor(async () => (receiver.of('/k').length >= 4 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 20,
      what: 'the first webhooks',
    });
    const pending = await http(
      'GET',
      `${order}/admin/webhooks/deliveries?endpointId=${ep.endpointId}&status=pending`,
      admin,
    );
    expect(pending.body.items.length).toBeGreaterThan(0);
    await first.kill();
    const beforeRestart = receiver.of('/k').length;

    const second = await startProcess('all', env, { timeoutMs: 90_000 });
    running.push(second);
    const order2 = second.urls.order!;
    for (const id of orderIds) await waitForFinal(order2, admin, id, 60_000);
    const expected = new Set<string>();
    for (const id of orderIds)
      for (const e of await eventsOf(order2, admin, id)) if (e.type.startsWith('ORDER_')) expected.add(e.eventId);
    await waitFor(
      async () => {
        const r = await http(
          'GET',
          `${order2}/admin/webhooks/deliveries?endpointId=${ep.endpointId}&status=pending`,
          admin,
        );
        const ids = new Set(receiver.of('/k').map((x) => x.id));
        return r.body.items.length === 0 && [...expected].every((id) => ids.has(id)) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: 'every event delivered after the restart' },
    );
    const got = receiver.of('/k');
    expect(got.length).toBeGreaterThan(beforeRestart);
    // Nothing lost, nothing foreign: the distinct webhook-ids are exactly the orders' events.
    expect(new Set(got.map((r) => r.id))).toEqual(expected);
    // A duplicate is the same message again: same webhook-id, same body, and it verifies.
    const first_ = new Map<string, string>();
    for (const r of got) {
      expect(r.verifiedBy).toEqual(['s']);
      const seen = first_.get(r.id);
      if (seen === undefined) first_.set(r.id, r.body);
      else expect(r.body).toBe(seen);
    }
    console.log(
      `webhooks after SIGKILL: ${expected.size} events, ${got.length} requests (${got.length - expected.size} duplicates)`,
    );
    await second.stop();
  });

  it('WEBHOOK_LOG_RETENTION_MS: finished deliveries and their attempts older than it are deleted', {
    timeout: 120_000,
  }, async () => {
    const env = { DATA_DIR: data.dir, ...WEBHOOK_TEST_ENV, WEBHOOK_LOG_RETENTION_MS: '1000' };
    const third = await startProcess('all', env, { timeoutMs: 90_000 });
    running.push(third);
    await waitFor(
      async () => {
        const r = await http('GET', `${third.urls.order}/admin/webhooks/deliveries?limit=500`, third.tokens.admin);
        return r.status === 200 && r.body.items.length === 0 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, what: 'the delivery log pruned' },
    );
    await third.stop();
  });
});
