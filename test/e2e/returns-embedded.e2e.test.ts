/**
 * Returns on the embedded default (issue 21): PGlite and the in-process bus carry the same return saga as the
 * distributed platform. A COMPLETED order is returned in two steps (PARTIALLY_RETURNED, then RETURNED), a request for
 * more than is left answers 409 with what can still be returned, the stock and the balance come back to the unit and
 * the cent, and `commerce audit` (through the running platform) passes. A request retried with its Idempotency-Key
 * answers the first return again and makes no second one.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  http,
  type PlatformProcess,
  placeOrder,
  ROOT,
  startProcess,
  tempDataDir,
  waitForFinal,
} from '../support/platform.js';
import { waitFor } from '../support/services.js';

describe('returns on the embedded default', () => {
  const data = tempDataDir();
  let platform: PlatformProcess | undefined;
  afterAll(async () => {
    await platform?.kill();
    data.remove();
  });

  it('returns a COMPLETED order in two steps, refuses more than is left, audit clean', {
    timeout: 180_000,
  }, async () => {
    platform = await startProcess('all', { DATA_DIR: data.dir }, { timeoutMs: 90_000 });
    const customer = platform.tokens.customer as string;
    const [ord, inv, pay] = [platform.urls.order, platform.urls.inventory, platform.urls.payment] as [
      string,
      string,
      string,
    ];
    const stockBefore = (await http('GET', `${inv}/products/demo-widget`, customer)).body;
    const balanceBefore = (await http('GET', `${pay}/customers/demo-customer`, customer)).body.balance;

    const orderId = await placeOrder(ord, customer, {
      customerId: 'demo-customer',
      currency: 'EUR',
      items: [{ productId: 'demo-widget', quantity: 3, unitPrice: 1999 }],
    });
    expect((await waitForFinal(ord, customer, orderId)).status).toBe('COMPLETED');

    const ask = (quantity: number, headers: Record<string, string> = {}) =>
      http(
        'POST',
        `${ord}/orders/${orderId}/returns`,
        customer,
        { items: [{ productId: 'demo-widget', quantity }], reason: 'changed my mind' },
        headers,
      );
    const done = (location: string) =>
      waitFor(
        async () => {
          const r = (await http('GET', `${ord}${location}`, customer)).body;
          return r?.status === 'COMPLETED' ? r : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, what: `return ${location} to complete` },
      );

    const key = { 'idempotency-key': `return-${orderId}` };
    const first = await ask(1, key);
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect(first.body).toMatchObject({ status: 'REQUESTED', amount: 1999, currency: 'EUR' });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    // A client that lost the answer asks again with its key: the same return, no second one.
    const retried = await ask(1, key);
    expect(retried.status).toBe(202);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.headers.get('location')).toBe(first.headers.get('location'));
    expect(retried.body.returnId).toBe(first.body.returnId);
    expect((await ask(2, key)).status).toBe(422);
    const firstDone = await done(first.headers.get('location')!);
    expect(firstDone).toMatchObject({ restocked: true, refunded: true, reasons: [] });
    expect((await http('GET', `${ord}/orders/${orderId}`, customer)).body).toMatchObject({
      status: 'COMPLETED',
      returnStatus: 'PARTIALLY_RETURNED',
      returned: [{ productId: 'demo-widget', quantity: 1 }],
      refundedAmount: 1999,
    });

    const tooMany = await ask(3);
    expect(tooMany.status).toBe(409);
    expect(tooMany.body).toMatchObject({ status: 409, returnable: [{ productId: 'demo-widget', quantity: 2 }] });

    const second = await ask(2);
    expect(second.status).toBe(202);
    await done(second.headers.get('location')!);
    expect((await http('GET', `${ord}/orders/${orderId}`, customer)).body).toMatchObject({
      status: 'COMPLETED',
      returnStatus: 'RETURNED',
      returned: [{ productId: 'demo-widget', quantity: 3 }],
      refundedAmount: 3 * 1999,
    });
    expect((await http('GET', `${ord}/orders/${orderId}/returns`, customer)).body.items).toHaveLength(2);
    expect((await ask(1)).status).toBe(409);

    expect((await http('GET', `${inv}/products/demo-widget`, customer)).body).toMatchObject({
      available: stockBefore.available,
      sold: stockBefore.sold,
    });
    expect((await http('GET', `${pay}/customers/demo-customer`, customer)).body.balance).toBe(balanceBefore);
    expect((await http('GET', `${pay}/payments/${orderId}`, customer)).body).toMatchObject({
      status: 'APPROVED',
      amount: 3 * 1999,
      refundedAmount: 3 * 1999,
    });

    const audit = spawnSync(
      process.execPath,
      [join(ROOT, 'apps/platform/bin/commerce.mjs'), 'audit', '--json', '--url', ord],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', DATA_DIR: data.dir }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(audit.status, audit.stdout + audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, breaches: [] });
  });
});
