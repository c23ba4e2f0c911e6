/**
 * Issue 21, risk review (docs/risk.md), on the distributed platform: orders that trip each risk rule end approved,
 * rejected or under review as the rules say; a held order approved by an admin completes; a held order rejected
 * with the CLI is cancelled; one left alone is rejected at REVIEW_TIMEOUT_MS and its stock released — kept reserved
 * until then, past RESERVATION_TTL_MS. `commerce audit` passes at the end.
 */
import { afterAll, expect, it } from 'vitest';
import {
  type DistributedPlatform,
  http,
  type PlatformProcess,
  placeOrder,
  runCommerce,
  startDistributed,
  startProcess,
  tempDataDir,
  token,
  waitForFinal,
  waitForStatus,
} from '../support/platform.js';
import { describeWith, uniqueName, waitFor } from '../support/services.js';

const TTL_MS = 2000;
const PRICES: Record<string, number> = { 'sku-big': 60000, 'sku-mid': 50000, 'sku-small': 100 };
const REVIEW_MS = 30_000;
const RISK_ENV = {
  RISK_AMOUNT_LIMIT: '100000',
  RISK_FIRST_ORDER_LIMIT: '50000',
  RISK_VELOCITY_WINDOW_MS: '600000',
  RISK_VELOCITY_MAX_ORDERS: '3',
  RISK_VELOCITY_MAX_AMOUNT: '130000',
  RISK_MAX_PRODUCT_QUANTITY: '10',
  REVIEW_TIMEOUT_MS: String(REVIEW_MS),
  RESERVATION_TTL_MS: String(TTL_MS),
  RATE_LIMIT: 'off',
};

describeWith(['postgres', 'rabbitmq', 'redis'], 'risk review (issue 21)', () => {
  let platform: DistributedPlatform | undefined;
  afterAll(async () => {
    await platform?.stop({ kill: true });
  });

  it('each rule ends the order as the rules say; approve completes, reject and timeout release', {
    timeout: 240_000,
  }, async () => {
    platform = await startDistributed({
      services: [['inventory', 'payment', 'order']],
      prefix: 'risk',
      secret: uniqueName('secret-for-risk-tests-only-0123456789'),
      env: RISK_ENV,
    });
    const [inv, pay, ord] = [platform.urls.inventory!, platform.urls.payment!, platform.urls.order!];
    const admin = platform.adminToken;
    const put = async (path: string, body: unknown) =>
      expect((await http('PUT', inv + path, admin, body)).status).toBe(200);
    await put('/products/sku-big', { name: 'Big', unitPrice: 60000, currency: 'EUR', stock: 20 });
    await put('/products/sku-mid', { name: 'Mid', unitPrice: 50000, currency: 'EUR', stock: 10 });
    await put('/products/sku-small', { name: 'Small', unitPrice: 100, currency: 'EUR', stock: 1000 });
    for (const c of ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'])
      expect((await http('PUT', `${pay}/customers/${c}`, admin, { balance: 1_000_000, currency: 'EUR' })).status).toBe(
        200,
      );
    const order = (customerId: string, productId: string, quantity: number) =>
      placeOrder(ord, admin, {
        customerId,
        currency: 'EUR',
        items: [{ productId, quantity, unitPrice: PRICES[productId] as number }],
      });
    const reasonsOf = async (id: string) => (await http('GET', `${ord}/orders/${id}`, admin)).body.reasons as string[];
    const stock = async (id: string) => {
      const p = (await http('GET', `${inv}/products/${id}`, admin)).body;
      return { available: p.available, reserved: p.reserved, sold: p.sold };
    };

    // Ordinary orders (a first order under the first-order limit) approve and complete: ann's and dan's history.
    for (const c of ['ann', 'dan'])
      expect((await waitForFinal(ord, admin, await order(c, 'sku-small', 1))).status).toBe('COMPLETED');

    // Quantity over RISK_MAX_PRODUCT_QUANTITY alone scores 30 < RISK_REVIEW_SCORE: approved.
    expect((await waitForFinal(ord, admin, await order('dan', 'sku-small', 11))).status).toBe('COMPLETED');

    // First order and amount over the limit (60 + 50 = 110 ≥ RISK_REJECT_SCORE): rejected like a declined payment.
    const rejected = await order('cat', 'sku-big', 2);
    expect((await waitForFinal(ord, admin, rejected)).status).toBe('COMPENSATED');
    expect(await reasonsOf(rejected)).toEqual(
      expect.arrayContaining([
        'PAYMENT_RISK_REJECTED',
        expect.stringMatching(/^RISK_AMOUNT/),
        expect.stringMatching(/^RISK_FIRST_ORDER/),
      ]),
    );
    expect((await http('GET', `${pay}/payments/${rejected}`, admin)).body).toMatchObject({
      status: 'DECLINED',
      reason: 'RISK_REJECTED',
    });

    // Amount over the limit on a known customer (60): held for review; an admin approves it through the API.
    const approved = await order('ann', 'sku-big', 2);
    await waitForStatus(ord, admin, approved, 'UNDER_REVIEW');
    // First order over the first-order limit (50): held, and left alone.
    const left = await order('ben', 'sku-big', 1);
    await waitForStatus(ord, admin, left, 'UNDER_REVIEW');
    const heldAt = Date.now();
    // Both held orders keep their stock past RESERVATION_TTL_MS (the sweeper runs every 500 ms).
    const reservedSeen = new Set<number>();
    await waitFor(
      async () => {
        reservedSeen.add((await stock('sku-big')).reserved);
        return Date.now() > heldAt + TTL_MS + 1500;
      },
      { timeoutMs: REVIEW_MS, intervalMs: 250, what: 'the reservations to outlive their TTL while under review' },
    );
    // ann's 2 (approved below) and ben's 1, at every look.
    expect([...reservedSeen]).toEqual([3]);
    expect((await http('GET', `${ord}/orders/${left}`, admin)).body.status).toBe('UNDER_REVIEW');

    const queue = (await http('GET', `${ord}/admin/reviews`, admin)).body.items as {
      orderId: string;
      reasons: string[];
      score: number;
    }[];
    expect(queue.find((r) => r.orderId === approved)).toMatchObject({
      score: 60,
      reasons: [expect.stringMatching(/^RISK_AMOUNT/)],
    });
    expect(queue.find((r) => r.orderId === left)).toMatchObject({
      score: 50,
      reasons: [expect.stringMatching(/^RISK_FIRST_ORDER/)],
    });
    expect((await http('GET', `${ord}/admin/reviews`, await token(platform.secret, 'ann', 'customer'))).status).toBe(
      403,
    );

    const decided = await http('POST', `${ord}/admin/reviews/${approved}/approve`, admin);
    expect(decided.status).toBe(200);
    expect(decided.body).toMatchObject({ decision: 'APPROVED' });
    expect((await waitForFinal(ord, admin, approved)).status).toBe('COMPLETED');
    // Decided: the same decision again changes nothing, the other one is refused.
    expect((await http('POST', `${ord}/admin/reviews/${approved}/approve`, admin)).status).toBe(200);
    expect((await http('POST', `${ord}/admin/reviews/${approved}/reject`, admin)).status).toBe(409);

    // Velocity: eve's 4th order in the window (more than 3) is held; the CLI lists it and rejects it.
    for (let i = 0; i < 3; i++)
      expect((await waitForFinal(ord, admin, await order('eve', 'sku-small', 1))).status).toBe('COMPLETED');
    const fourth = await order('eve', 'sku-small', 1);
    await waitForStatus(ord, admin, fourth, 'UNDER_REVIEW');
    const cli = { COMMERCE_TOKEN: admin };
    const list = await runCommerce(['review', 'list', '--json', '--url', ord], cli);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).items.find((r: { orderId: string }) => r.orderId === fourth).reasons[0]).toMatch(
      /^RISK_VELOCITY: 4 orders/,
    );
    const rejectCli = await runCommerce(['review', 'reject', fourth, '--url', ord], cli);
    expect(rejectCli.code, rejectCli.stderr).toBe(0);
    expect((await waitForFinal(ord, admin, fourth)).status).toBe('COMPENSATED');
    expect((await reasonsOf(fourth))[0]).toBe('REVIEW_REJECTED: by ops');

    // Velocity by value: fay's 50 000 then 100 000 (neither over a limit alone) pass 130 000 within the window.
    expect((await waitForFinal(ord, admin, await order('fay', 'sku-mid', 1))).status).toBe('COMPLETED');
    const byValue = await order('fay', 'sku-mid', 2);
    expect((await waitForStatus(ord, admin, byValue, 'UNDER_REVIEW')).status).toBe('UNDER_REVIEW');
    const fays = (await http('GET', `${ord}/admin/reviews`, admin)).body.items.find(
      (r: { orderId: string }) => r.orderId === byValue,
    );
    expect(fays.reasons).toEqual(['RISK_VELOCITY: 150000 ordered within 600000 ms, more than 130000']);
    expect((await http('POST', `${ord}/admin/reviews/${byValue}/reject`, admin)).status).toBe(200);
    expect((await waitForFinal(ord, admin, byValue)).status).toBe('COMPENSATED');

    // The one left alone is rejected at REVIEW_TIMEOUT_MS, its stock released.
    expect((await waitForFinal(ord, admin, left, REVIEW_MS + 20_000)).status).toBe('COMPENSATED');
    expect((await reasonsOf(left))[0]).toBe('REVIEW_TIMEOUT: no review decision in time');
    expect(await stock('sku-big')).toEqual({ available: 18, reserved: 0, sold: 2 });
    expect((await http('GET', `${pay}/customers/ben`, admin)).body.balance).toBe(1_000_000);

    const dbs = platform.databases;
    const audit = await runCommerce(['audit', '--json'], {
      ORDER_DATABASE_URL: dbs.order,
      INVENTORY_DATABASE_URL: dbs.inventory,
      PAYMENT_DATABASE_URL: dbs.payment,
    });
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, breaches: [], counts: { inFlight: 0 } });
  });

  it('RISK_REVIEW_SCORE=30 and RISK_REJECT_SCORE=60: the quantity rule alone holds an order, the amount rule alone rejects one', {
    timeout: 120_000,
  }, async () => {
    const data = tempDataDir();
    let one: PlatformProcess | undefined;
    try {
      one = await startProcess(
        'all',
        {
          DATA_DIR: data.dir,
          RISK_AMOUNT_LIMIT: '4000',
          RISK_MAX_PRODUCT_QUANTITY: '1',
          RISK_REVIEW_SCORE: '30',
          RISK_REJECT_SCORE: '60',
        },
        { timeoutMs: 90_000 },
      );
      const ord = one.urls.order!;
      const customer = one.tokens.customer!;
      const place = (productId: string, quantity: number, unitPrice: number) =>
        placeOrder(ord, customer, {
          customerId: 'demo-customer',
          currency: 'EUR',
          items: [{ productId, quantity, unitPrice }],
        });
      // 2 widgets (39.98, under the 40.00 limit) are more than 1 of a product: 30 ≥ RISK_REVIEW_SCORE.
      const held = await place('demo-widget', 2, 1999);
      await waitForStatus(ord, customer, held, 'UNDER_REVIEW');
      // 1 gadget (49.99) is over the amount limit: 60 ≥ RISK_REJECT_SCORE.
      const rejected = await place('demo-gadget', 1, 4999);
      const final = await waitForFinal(ord, customer, rejected);
      expect(final.status).toBe('COMPENSATED');
      expect(final.reasons).toEqual(['PAYMENT_RISK_REJECTED', 'RISK_AMOUNT: total 4999 over 4000']);
    } finally {
      await one?.kill();
      data.remove();
    }
  });
});
