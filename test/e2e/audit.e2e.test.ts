/**
 * `commerce audit` (issue 7, SPEC §9): exit 0 on a consistent platform; exit 1 naming the product, the customer and
 * the order after a test corrupts a stock row, a balance and an order's status directly in the databases.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import {
  type DistributedPlatform,
  http,
  placeOrder,
  ROOT,
  startDistributed,
  token,
  waitForFinal,
} from '../support/platform.js';
import { describeWith, uniqueName } from '../support/services.js';

function audit(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'apps/platform/bin/commerce.mjs'), 'audit', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

async function sql(url: string, text: string, params: unknown[]) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text, params);
  } finally {
    await c.end();
  }
}

describeWith(['postgres', 'rabbitmq', 'redis'], 'commerce audit', () => {
  let platform: DistributedPlatform | undefined;
  afterAll(async () => {
    await platform?.stop({ kill: true });
  });

  it('passes on a consistent platform and names every corrupted row', { timeout: 180_000 }, async () => {
    platform = await startDistributed({
      services: [['inventory', 'payment', 'order']],
      prefix: 'audit',
      secret: uniqueName('secret-for-audit-tests-only-0123456789'),
    });
    const dbs = platform.databases;
    const dbEnv = {
      ORDER_DATABASE_URL: dbs.order,
      INVENTORY_DATABASE_URL: dbs.inventory,
      PAYMENT_DATABASE_URL: dbs.payment,
    };
    const { inventory: inv, payment: pay, order: ord } = platform.urls;
    const admin = platform.adminToken;
    const bob = await token(platform.secret, 'bob', 'customer');
    expect(
      (await http('PUT', `${inv}/products/sku-a`, admin, { name: 'A', unitPrice: 100, currency: 'EUR', stock: 5 }))
        .status,
    ).toBe(200);
    expect((await http('PUT', `${pay}/customers/bob`, admin, { balance: 5000, currency: 'EUR' })).status).toBe(200);

    const completed = await placeOrder(ord!, bob, {
      customerId: 'bob',
      currency: 'EUR',
      items: [{ productId: 'sku-a', quantity: 2, unitPrice: 100 }],
    });
    // Out of stock after payment succeeds: cancelled and refunded.
    const compensated = await placeOrder(ord!, bob, {
      customerId: 'bob',
      currency: 'EUR',
      items: [{ productId: 'sku-a', quantity: 9, unitPrice: 100 }],
    });
    expect((await waitForFinal(ord!, bob, completed)).status).toBe('COMPLETED');
    expect((await waitForFinal(ord!, bob, compensated)).status).toBe('COMPENSATED');

    // Stock and money an admin puts in (each call retried with its Idempotency-Key) are counted by invariants 2
    // and 3 as restocks and top-ups: the audit stays clean.
    for (let attempt = 0; attempt < 2; attempt++) {
      const restock = { 'idempotency-key': 'audit-restock' };
      expect((await http('POST', `${inv}/products/sku-a/restock`, admin, { quantity: 4 }, restock)).status).toBe(200);
      const topUp = { 'idempotency-key': 'audit-top-up' };
      const body = { amount: 900, currency: 'EUR' };
      expect((await http('POST', `${pay}/customers/bob/top-up`, admin, body, topUp)).status).toBe(200);
    }
    expect((await http('GET', `${pay}/customers/bob`, admin)).body.balance).toBe(5000 - 200 + 900);
    expect((await http('GET', `${inv}/products/sku-a`, admin)).body.available).toBe(5 - 2 + 4);

    const clean = audit(dbEnv);
    expect(clean.out).toMatch(/OK: every invariant holds/);
    expect(clean.code).toBe(0);
    const asJson = audit(dbEnv, '--json');
    expect(JSON.parse(asJson.out)).toMatchObject({ ok: true, breaches: [], counts: { orders: 2, final: 2 } });

    await sql(dbs.inventory, 'UPDATE products SET available = available + 5 WHERE product_id = $1', ['sku-a']);
    await sql(dbs.payment, 'UPDATE accounts SET balance = balance - 7 WHERE customer_id = $1', ['bob']);
    await sql(dbs.order, "UPDATE orders SET status = 'CANCELLED' WHERE order_id = $1", [completed]);

    const broken = audit(dbEnv);
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/BREACH invariant 2: product sku-a/);
    expect(broken.out).toMatch(/BREACH invariant 3: customer bob/);
    expect(broken.out).toContain(`order ${completed} is CANCELLED but still holds stock`);
    const report = JSON.parse(audit(dbEnv, '--json').out);
    expect(report.ok).toBe(false);
    expect(
      report.breaches.map(
        (b: { productId?: string; customerId?: string; orderId?: string }) => b.productId ?? b.customerId ?? b.orderId,
      ),
    ).toEqual(expect.arrayContaining(['sku-a', 'bob', completed]));
  });

  it('says what is wrong with bad arguments and unreachable databases', () => {
    const bad = audit({}, '--max-age-ms', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/--max-age-ms: expected a whole number/);
    const down = audit({
      ORDER_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x',
      INVENTORY_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/y',
      PAYMENT_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/z',
    });
    expect(down.code).toBe(2);
    expect(down.out).toMatch(/cannot reach database x/);
  });
});
