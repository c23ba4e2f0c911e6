/**
 * Webhooks end to end (issue 20) on the embedded default: real receivers on loopback verify every request with the
 * `standardwebhooks` library. Every matching event arrives once per endpoint and in order per order; a receiver
 * answering 500 twice gets the third attempt, with the shrunk schedule's delays in the log; during a secret rotation
 * the old and the new secret both verify; unsafe URLs are refused naming the rule.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  http,
  type PlatformProcess,
  placeOrder,
  runCommerce,
  startProcess,
  tempDataDir,
  waitForFinal,
} from '../support/platform.js';
import { describeWith, waitFor } from '../support/services.js';
import { startReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';
import { createEndpoint, eventsOf, mixedOrder, SCHEDULE, WEBHOOK_TEST_ENV } from '../support/webhooks.js';

describeWith([], 'webhooks on the embedded default', () => {
  const data = tempDataDir();
  let platform: PlatformProcess;
  let receiver: WebhookReceiver;
  let order: string;
  let admin: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    platform = await startProcess('all', { DATA_DIR: data.dir, ...WEBHOOK_TEST_ENV }, { timeoutMs: 90_000 });
    order = platform.urls.order!;
    admin = platform.tokens.admin!;
  }, 120_000);
  afterAll(async () => {
    await platform?.kill();
    await receiver?.close();
    data.remove();
  });

  it('50 orders with mixed outcomes: every matching event arrives once per endpoint, in order, and verifies', {
    timeout: 240_000,
  }, async () => {
    const all = await createEndpoint(order, admin, { url: `${receiver.url}/all`, description: 'everything' });
    const finals = await createEndpoint(order, admin, {
      url: `${receiver.url}/finals`,
      eventTypes: ['ORDER_COMPLETED', 'ORDER_CANCELLED'],
    });
    const poor = await createEndpoint(order, admin, { url: `${receiver.url}/poor`, customerId: 'demo-poor' });
    expect(all.secret).toMatch(/^whsec_/);
    // WEBHOOK_ALLOW_PRIVATE_NETWORKS=true is warned about at start.
    expect(platform.output()).toContain('WEBHOOK_ALLOW_PRIVATE_NETWORKS=true');
    receiver.secrets.set('/all', { s: all.secret });
    receiver.secrets.set('/finals', { s: finals.secret });
    receiver.secrets.set('/poor', { s: poor.secret });
    // The secret is shown once: never in a listing.
    const listed = await http('GET', `${order}/admin/webhooks`, admin);
    expect(JSON.stringify(listed.body)).not.toContain(all.secret);

    const tokens = platform.tokens as { admin: string; customer: string };
    const placed: { orderId: string; customerId: string }[] = [];
    for (let batch = 0; batch < 5; batch++)
      placed.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, async (_, k) => {
            const o = mixedOrder(batch * 10 + k);
            return { orderId: await placeOrder(order, tokens[o.customer], o.body), customerId: o.body.customerId };
          }),
        )),
      );
    const statuses = new Set<string>();
    for (const p of placed) statuses.add((await waitForFinal(order, admin, p.orderId, 60_000)).status);
    expect(statuses.size).toBeGreaterThanOrEqual(3);

    const expected: Record<string, { orderId: string; eventId: string; version: number; type: string }[]> = {
      '/all': [],
      '/finals': [],
      '/poor': [],
    };
    for (const p of placed)
      for (const e of await eventsOf(order, admin, p.orderId)) {
        // The order's stream also records the inventory and payment answers the saga handled: not order events.
        if (!e.type.startsWith('ORDER_')) continue;
        const ev = { orderId: p.orderId, eventId: e.eventId, version: e.version, type: e.type };
        expected['/all']!.push(ev);
        if (e.type === 'ORDER_COMPLETED' || e.type === 'ORDER_CANCELLED') expected['/finals']!.push(ev);
        if (p.customerId === 'demo-poor') expected['/poor']!.push(ev);
      }
    // Every delivery of the three endpoints finished (nothing pending that could still arrive twice).
    for (const ep of [all, finals, poor])
      await waitFor(
        async () => {
          const r = await http(
            'GET',
            `${order}/admin/webhooks/deliveries?endpointId=${ep.endpointId}&status=pending`,
            admin,
          );
          return r.body.items.length === 0 ? true : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: `no pending delivery for ${ep.endpointId}` },
      );
    for (const [path, want] of Object.entries(expected)) {
      await waitFor(async () => (receiver.of(path).length >= want.length ? true : undefined), {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: `${want.length} webhooks at ${path}`,
      });
      const got = receiver.of(path);
      // Exactly once: as many requests as events, each event id once.
      const attempts = await http('GET', `${order}/admin/webhooks/deliveries?limit=500&status=succeeded`, admin);
      const retried = attempts.body.items.filter((d: { attempts: number }) => d.attempts > 1);
      expect(retried, `${path}: deliveries that needed a retry`).toEqual([]);
      expect(got.map((r) => r.id).sort(), path).toEqual(want.map((e) => e.eventId).sort());
      for (const r of got) {
        expect(r.verifiedBy, `${path} ${r.id}`).toEqual(['s']);
        expect(r.payload.id).toBe(r.id);
        expect(r.payload.links.order).toBe(`/orders/${r.payload.orderId}`);
      }
      // In order per order: each order's versions arrive ascending.
      const byOrder = new Map<string, number[]>();
      for (const r of got)
        byOrder.set(r.payload.orderId, [...(byOrder.get(r.payload.orderId) ?? []), r.payload.version]);
      for (const [orderId, versions] of byOrder)
        expect(versions, `${path} ${orderId}`).toEqual([...versions].sort((a, b) => a - b));
    }
    expect(expected['/poor']!.length).toBeGreaterThan(0);
    // The metrics endpoint counts the attempts.
    const metrics = await fetch(`${order}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/commerce_webhook_attempts_total\{outcome="succeeded"[^}]*\} \d+/);
    expect(metrics).toContain('commerce_webhook_attempt_duration_seconds_bucket');
    for (const ep of [all, finals, poor])
      expect((await http('DELETE', `${order}/admin/webhooks/${ep.endpointId}`, admin)).status).toBe(204);
  });

  it('a receiver answering 500 twice then 200: the third attempt succeeds, the log shows three attempts and their delays', {
    timeout: 60_000,
  }, async () => {
    const ep = await createEndpoint(order, admin, { url: `${receiver.url}/flaky`, eventTypes: ['ORDER_CREATED'] });
    receiver.secrets.set('/flaky', { s: ep.secret });
    receiver.respond = (r, previous) => (r.path === '/flaky' && previous.length < 2 ? 500 : 200);
    const orderId = await placeOrder(order, platform.tokens.customer!, mixedOrder(0).body);
    const delivery = await waitFor(
      async () => {
        const r = await http(
          'GET',
          `${order}/admin/webhooks/deliveries?endpointId=${ep.endpointId}&orderId=${orderId}`,
          admin,
        );
        const d = r.body.items[0];
        return d?.status === 'succeeded' ? d : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the flaky delivery to succeed' },
    );
    expect(delivery.attempts).toBe(3);
    expect(delivery.log.map((a: { statusCode: number }) => a.statusCode)).toEqual([500, 500, 200]);
    // The first 12 bytes of the answer (WEBHOOK_RESPONSE_BODY_LIMIT=12).
    expect(delivery.log[0].responseBody).toBe('answer 500 t');
    const at = delivery.log.map((a: { attemptedAt: string }) => Date.parse(a.attemptedAt));
    // 300 ms and 600 ms, ±20 % jitter, after each answer.
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(SCHEDULE[0]! * 0.8);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(SCHEDULE[1]! * 0.8);
    expect(at[2] - at[0]).toBeLessThan(10_000);
    const got = receiver.of('/flaky').filter((r) => r.payload.orderId === orderId);
    expect(got.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(got.map((r) => r.id)).size).toBe(1);
    expect(got.every((r) => r.verifiedBy.includes('s'))).toBe(true);
    receiver.respond = () => 200;
  });

  it('secret rotation: during the overlap a receiver knowing only the old secret and one knowing only the new both verify', {
    timeout: 60_000,
  }, async () => {
    const ep = await createEndpoint(order, admin, { url: `${receiver.url}/rotating`, eventTypes: ['ORDER_CREATED'] });
    const rotated = await http('POST', `${order}/admin/webhooks/${ep.endpointId}/rotate-secret`, admin);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(ep.secret);
    expect(Date.parse(rotated.body.previousSecretUntil) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    receiver.secrets.set('/rotating', { old: ep.secret, new: rotated.body.secret });
    const orderId = await placeOrder(order, platform.tokens.customer!, mixedOrder(0).body);
    const r = await waitFor(async () => receiver.of('/rotating').find((x) => x.payload.orderId === orderId), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the webhook of the rotated endpoint',
    });
    expect(r.signature.split(' ')).toHaveLength(2);
    expect(r.verifiedBy.sort()).toEqual(['new', 'old']);
  });

  it('WEBHOOK_TIMEOUT_MS: a receiver that does not answer within it is logged as timed out and retried', {
    timeout: 60_000,
  }, async () => {
    const ep = await createEndpoint(order, admin, { url: `${receiver.url}/slow`, eventTypes: ['ORDER_CREATED'] });
    receiver.respond = (r, previous) =>
      r.path === '/slow' && previous.length === 0 ? new Promise((ok) => setTimeout(() => ok(200), 6000)) : 200;
    const orderId = await placeOrder(order, platform.tokens.customer!, mixedOrder(0).body);
    const d = await waitFor(
      async () => {
        const r = await http(
          'GET',
          `${order}/admin/webhooks/deliveries?endpointId=${ep.endpointId}&orderId=${orderId}`,
          admin,
        );
        return r.body.items[0]?.status === 'succeeded' ? r.body.items[0] : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the slow delivery to succeed on its retry' },
    );
    expect(d.log[0].error).toBe('timed out after 5000 ms');
    expect(d.log[0].statusCode).toBeNull();
    expect(d.log[0].latencyMs).toBeGreaterThanOrEqual(5000);
    expect(d.log[1].statusCode).toBe(200);
    receiver.respond = () => 200;
  });

  it('WEBHOOK_DISABLE_AFTER_MS: an endpoint failing that long is disabled; a 410 Gone disables at once', {
    timeout: 90_000,
  }, async () => {
    const down = await createEndpoint(order, admin, { url: `${receiver.url}/down` });
    const gone = await createEndpoint(order, admin, { url: `${receiver.url}/gone`, eventTypes: ['ORDER_CREATED'] });
    receiver.respond = (r) => (r.path === '/down' ? 503 : r.path === '/gone' ? 410 : 200);
    for (let i = 0; i < 3; i++) await placeOrder(order, platform.tokens.customer!, mixedOrder(i * 4).body);
    for (const [ep, reason] of [
      [down, /every attempt failed for \d+ s/],
      [gone, /410 Gone/],
    ] as const) {
      const e = await waitFor(
        async () => {
          const r = await http('GET', `${order}/admin/webhooks/${ep.endpointId}`, admin);
          return r.body.enabled === false ? r.body : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: `endpoint ${ep.endpointId} disabled` },
      );
      expect(e.disabledReason).toMatch(reason);
    }
    // Sent to at most the three orders' ORDER_CREATED claimed together (different orders go out in parallel);
    // nothing after the 410 disabled it.
    const goneCount = receiver.of('/gone').length;
    expect(goneCount).toBeGreaterThanOrEqual(1);
    expect(goneCount).toBeLessThanOrEqual(3);
    expect(receiver.of('/gone').every((r) => r.answered === 410)).toBe(true);
    await waitFor(async () => (/webhook endpoint disabled/.test(platform.output()) ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the disabling logged',
    });
    await waitFor(
      async () => {
        const m = await fetch(`${order}/metrics`).then((r) => r.text());
        return /commerce_webhook_endpoints_disabled(\{[^}]*\})? 2\b/.test(m) ? true : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, what: 'the disabled-endpoints gauge at 2' },
    );
    await placeOrder(order, platform.tokens.customer!, mixedOrder(0).body);
    // Enabled again, its pending deliveries go out (the receiver answers now).
    receiver.respond = () => 200;
    const enabled = await http('POST', `${order}/admin/webhooks/${down.endpointId}/enable`, admin);
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const redrive = await http('POST', `${order}/admin/webhooks/${down.endpointId}/redeliver`, admin, { since });
    expect(redrive.status).toBe(202);
    await waitFor(
      async () => {
        const r = await http(
          'GET',
          `${order}/admin/webhooks/deliveries?endpointId=${down.endpointId}&limit=500`,
          admin,
        );
        return r.body.items.length > 0 && r.body.items.every((x: { status: string }) => x.status === 'succeeded')
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'every delivery of the re-enabled endpoint to succeed' },
    );
    // The disabled endpoint got no delivery of the order placed while it was disabled.
    expect(receiver.of('/gone')).toHaveLength(goneCount);
  });

  it('commerce webhooks add, list, show, test, log, rotate-secret, disable, enable, redeliver, remove', {
    timeout: 120_000,
  }, async () => {
    const cli = async (...args: string[]) => {
      const r = await runCommerce(['webhooks', ...args, '--url', order, '--token', admin], {});
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const added = JSON.parse(
      await cli('add', `${receiver.url}/cli`, '--events', 'ORDER_COMPLETED', '--description', 'from the CLI', '--json'),
    );
    expect(added.secret).toMatch(/^whsec_/);
    receiver.secrets.set('/cli', { s: added.secret });
    expect(await cli('list')).toContain(`${added.endpointId}  enabled   ${receiver.url}/cli  events=ORDER_COMPLETED`);
    expect(JSON.parse(await cli('show', added.endpointId, '--json')).description).toBe('from the CLI');
    const test = JSON.parse(await cli('test', added.endpointId, '--json'));
    const r = await waitFor(async () => receiver.of('/cli').find((x) => x.id === test.eventId), {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'the test webhook',
    });
    expect(r.payload.type).toBe('WEBHOOK_TEST');
    expect(r.verifiedBy).toEqual(['s']);
    await waitFor(
      async () => ((await cli('log', '--endpoint', added.endpointId)).includes('attempt 1') ? true : undefined),
      {
        timeoutMs: 10_000,
        intervalMs: 200,
        what: 'the attempt in the CLI log',
      },
    );
    expect(await cli('rotate-secret', added.endpointId)).toMatch(/^secret: whsec_/);
    expect(await cli('disable', added.endpointId)).toContain('disabled');
    expect(await cli('enable', added.endpointId)).toContain('enabled');
    expect(await cli('redeliver', '--endpoint', added.endpointId, '--since', '2020-01-01T00:00:00Z')).toContain(
      '0 failed deliveries are pending again',
    );
    expect(await cli('remove', added.endpointId)).toContain('removed');
    const bad = await runCommerce(['webhooks', 'add', 'ftp://x', '--url', order, '--token', admin], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid-url');
  });
});

describeWith([], 'webhook registration with private networks not allowed', () => {
  const data = tempDataDir();
  let platform: PlatformProcess;

  beforeAll(async () => {
    platform = await startProcess('all', { DATA_DIR: data.dir, WEBHOOK_ALLOW_INSECURE: 'true' }, { timeoutMs: 90_000 });
  }, 120_000);
  afterAll(async () => {
    await platform?.kill();
    data.remove();
  });

  it('refuses loopback, metadata and a name resolving to a private address, each with a 400 naming the rule', async () => {
    const order = platform.urls.order!;
    for (const [url, rule] of [
      ['http://127.0.0.1/', 'loopback-address'],
      ['http://169.254.169.254/', 'metadata-address'],
      ['http://localhost:8080/hook', 'loopback-address'],
      ['http://[::ffff:10.0.0.7]/', 'private-address'],
    ] as const) {
      const r = await http('POST', `${order}/admin/webhooks`, platform.tokens.admin, { url });
      expect(r.status, url).toBe(400);
      expect(r.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(r.body.rule, url).toBe(rule);
      expect(r.body.detail, url).toContain(`rule ${rule}`);
      expect(r.body.errors[0].field).toBe('/url');
    }
    // The warning is not logged when the setting is off; https is still asked for when insecure is not allowed.
    expect(platform.output()).not.toContain('WEBHOOK_ALLOW_PRIVATE_NETWORKS=true');
    // No WEBHOOK_SECRET_KEY in the embedded default: the public fixed key is warned about.
    expect(platform.output()).toContain('WEBHOOK_SECRET_KEY is not set');
    const list = await http('GET', `${order}/admin/webhooks`, platform.tokens.admin);
    expect(list.body.items).toEqual([]);
  });
});
