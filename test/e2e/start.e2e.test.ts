/**
 * One command to run it (issue 7): the embedded default through `npm start`, a restart that keeps everything,
 * an order in flight during a SIGKILL, and the three services as separate processes on the real servers.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type DistributedPlatform,
  http,
  type PlatformProcess,
  placeOrder,
  ROOT,
  startDistributed,
  startProcess,
  tempDataDir,
  token,
  waitForFinal,
} from '../support/platform.js';
import { describeWith, uniqueName } from '../support/services.js';

const widgetOrder = (quantity: number) => ({
  customerId: 'demo-customer',
  currency: 'EUR',
  items: [{ productId: 'demo-widget', quantity, unitPrice: 1999 }],
});

describe('npm start (embedded default)', () => {
  const data = tempDataDir();
  const running: PlatformProcess[] = [];
  afterAll(async () => {
    for (const p of running) await p.kill();
    data.remove();
  });

  it('serves, completes an order, stops on SIGTERM and keeps everything across a restart', {
    timeout: 240_000,
  }, async () => {
    const first = await startProcess('all', { DATA_DIR: data.dir }, { viaNpmStart: true, timeoutMs: 90_000 });
    running.push(first);
    const { customer, admin } = first.tokens;
    expect(customer, first.output()).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(admin).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);

    const orderId = await placeOrder(first.urls.order!, customer!, widgetOrder(2));
    const final = await waitForFinal(first.urls.order!, customer!, orderId);
    expect(final.status).toBe('COMPLETED');
    expect(final.totalAmount).toBe(3998);
    const stockBefore = (await http('GET', `${first.urls.inventory}/products/demo-widget`, customer)).body;
    expect(stockBefore).toMatchObject({ available: 998, reserved: 0, sold: 2 });
    const balanceBefore = (await http('GET', `${first.urls.payment}/customers/demo-customer`, customer)).body;
    expect(balanceBefore.balance).toBe(1_000_000 - 3998);

    // The CLI reaches the embedded data through the running platform, with a token from the secret under DATA_DIR.
    const audit = spawnSync(
      process.execPath,
      [join(ROOT, 'apps/platform/bin/commerce.mjs'), 'audit', '--json', '--url', first.urls.order!],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATA_DIR: data.dir }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(audit.status, audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, counts: { orders: 1, final: 1 } });

    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startProcess('all', { DATA_DIR: data.dir }, { viaNpmStart: true, timeoutMs: 90_000 });
    running.push(second);
    const again = await http('GET', `${second.urls.order}/orders/${orderId}`, customer);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('COMPLETED');
    const events = await http('GET', `${second.urls.order}/orders/${orderId}/events`, customer);
    expect(events.body.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(['ORDER_CREATED', 'ORDER_CONFIRMED', 'ORDER_COMPLETED']),
    );
    expect((await http('GET', `${second.urls.inventory}/products/demo-widget`, customer)).body).toMatchObject({
      available: 998,
      reserved: 0,
      sold: 2,
    });
    expect((await http('GET', `${second.urls.payment}/customers/demo-customer`, customer)).body.balance).toBe(
      1_000_000 - 3998,
    );
    expect(await second.stop('SIGTERM')).toBe(0);
  });

  it('finishes an order placed just before a SIGKILL, after the restart', { timeout: 240_000 }, async () => {
    const dir = tempDataDir();
    try {
      const first = await startProcess('all', { DATA_DIR: dir.dir });
      running.push(first);
      const customer = first.tokens.customer!;
      const orderId = await placeOrder(first.urls.order!, customer, widgetOrder(1));
      await first.kill();
      const second = await startProcess('all', { DATA_DIR: dir.dir });
      running.push(second);
      // COMPLETED (not CANCELLED by the 30 s saga timeout): the work in flight was resumed, not abandoned.
      const final = await waitForFinal(second.urls.order!, customer, orderId, 25_000);
      expect(final.status).toBe('COMPLETED');
      await second.stop();
    } finally {
      dir.remove();
    }
  });
});

describeWith(['postgres', 'rabbitmq', 'redis'], 'three services as separate processes (distributed)', () => {
  let platform: DistributedPlatform | undefined;
  afterAll(async () => {
    await platform?.stop({ kill: true });
  });

  it('completes an order across three processes and keeps it across restarts', { timeout: 240_000 }, async () => {
    platform = await startDistributed({
      services: [['inventory', 'payment', 'order']],
      prefix: 'e2e',
      secret: uniqueName('secret-for-e2e-tests-only-0123456789'),
    });
    const byName = (procs: PlatformProcess[]) =>
      Object.fromEntries(procs.map((p) => [p.name, p])) as Record<string, PlatformProcess>;
    let p = byName(platform.processes);
    const admin = platform.adminToken;
    const alice = await token(platform.secret, 'alice', 'customer');
    expect(
      (
        await http('PUT', `${p.inventory!.urls.inventory}/products/sku-1`, admin, {
          name: 'Thing',
          unitPrice: 250,
          currency: 'EUR',
          stock: 10,
        })
      ).status,
    ).toBe(200);
    expect(
      (await http('PUT', `${p.payment!.urls.payment}/customers/alice`, admin, { balance: 10_000, currency: 'EUR' }))
        .status,
    ).toBe(200);

    const orderId = await placeOrder(p.order!.urls.order!, alice, {
      customerId: 'alice',
      currency: 'EUR',
      items: [{ productId: 'sku-1', quantity: 4, unitPrice: 250 }],
    });
    expect((await waitForFinal(p.order!.urls.order!, alice, orderId)).status).toBe('COMPLETED');

    for (const proc of Object.values(p)) expect(await proc.stop('SIGTERM')).toBe(0);
    p = byName(await Promise.all((['inventory', 'payment', 'order'] as const).map((s) => platform!.start(s))));
    const again = await http('GET', `${p.order!.urls.order}/orders/${orderId}`, alice);
    expect(again.body).toMatchObject({ status: 'COMPLETED', totalAmount: 1000 });
    expect((await http('GET', `${p.inventory!.urls.inventory}/products/sku-1`, alice)).body).toMatchObject({
      available: 6,
      reserved: 0,
      sold: 4,
    });
    expect((await http('GET', `${p.payment!.urls.payment}/customers/alice`, alice)).body.balance).toBe(9000);
    for (const proc of Object.values(p)) expect(await proc.stop('SIGTERM')).toBe(0);
  });
});
