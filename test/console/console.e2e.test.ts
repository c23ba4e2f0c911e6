/**
 * The operations console in a real browser (issue 12): sign in with the printed admin token, watch an order
 * appear in the live feed and complete without reloading, read its saga timeline, follow a compensated order,
 * and replay/discard a dead letter from the page (distributed start, a poison message on real RabbitMQ).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM_PATH } from '../support/pieces.js';
import {
  type DistributedPlatform,
  http,
  type PlatformProcess,
  placeOrder,
  ROOT,
  startDistributed,
  startProcess,
  tempDataDir,
  waitForFinal,
} from '../support/platform.js';
import { describeWith, uniqueName, waitFor } from '../support/services.js';

const SHOTS = join(ROOT, 'test/console/screenshots');
mkdirSync(SHOTS, { recursive: true });

async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

async function signIn(page: Page, orderUrl: string, adminToken: string): Promise<void> {
  await page.goto(`${orderUrl}/console`);
  await page.locator('console-login textarea').fill(adminToken);
  await page.locator('console-login button[type=submit]').click();
  await page.locator('#nav').waitFor({ state: 'visible' });
}

/** The page runs in a fixed locale and time zone, so what it writes can be compared with what is expected. */
const PAGE = { viewport: { width: 1400, height: 1000 }, locale: 'en-US', timezoneId: 'UTC' } as const;

/** The day of an instant as the console writes it in PAGE's locale and time zone ("Mar 5, 2025"). */
const day = (iso: string) =>
  new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric' }).format(
    new Date(iso),
  );

async function timelineTypes(page: Page): Promise<string[]> {
  return page.locator('#timeline li').evaluateAll((lis) => lis.map((li) => (li as HTMLElement).dataset.type ?? ''));
}

describeWith(['chromium'], 'console on the embedded default', () => {
  const data = tempDataDir();
  let platform: PlatformProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [platform, browser] = await Promise.all([
      startProcess('all', { DATA_DIR: data.dir }, { timeoutMs: 90_000 }),
      launch(),
    ]);
    page = await browser.newPage(PAGE);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.kill();
    data.remove();
  });

  it('serves the page publicly, with a content type, and nothing outside the console folder', async () => {
    const order = platform.urls.order!;
    const html = await fetch(`${order}/console/`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    // One module per view, in a subfolder, plus the shared formatting: all served as JavaScript.
    for (const file of ['app.js', 'format.js', 'views/orderView.js', 'views/feedView.js']) {
      const js = await fetch(`${order}/console/${file}`);
      expect(js.status, file).toBe(200);
      expect(js.headers.get('content-type'), file).toMatch(/^text\/javascript/);
    }
    for (const bad of [
      '/console/..%2Fsrc%2Fmain.ts',
      '/console/../package.json',
      '/console/%2e%2e/src/cli.ts',
      '/console/x.ts',
      '/console/format.d.ts',
    ])
      expect((await fetch(`${order}${bad}`)).status, bad).toBe(404);
    // Data routes are admin-only: no token 401, a customer 403.
    expect((await http('GET', `${order}/admin/feed`, undefined)).status).toBe(401);
    expect((await http('GET', `${order}/admin/console-config`, platform.tokens.customer)).status).toBe(403);
    expect(
      (await http('GET', `${order}/admin/proxy/payment/customers/demo-customer`, platform.tokens.customer)).status,
    ).toBe(403);
  });

  it('signs in, shows a new order live until COMPLETED without reloading, and its full timeline', async () => {
    const { admin, customer } = platform.tokens;
    const order = platform.urls.order!;
    await signIn(page, order, admin!);
    await page.locator('feed-view[data-state=live]').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('commerce.console.token'))).toBe(admin);
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));

    const orderId = await placeOrder(order, customer!, {
      customerId: 'demo-customer',
      currency: 'EUR',
      items: [{ productId: 'demo-widget', quantity: 2, unitPrice: 1999 }],
    });
    // Amounts are in minor units: 1000 JPY is ¥1,000 (JPY has none), not "10.00 JPY". Payment declines it (the
    // customer's account is in EUR), which does not matter here: the feed shows every order.
    const yenOrderId = await placeOrder(order, customer!, {
      customerId: 'demo-customer',
      currency: 'JPY',
      items: [{ productId: 'demo-widget', quantity: 1, unitPrice: 1000 }],
    });
    const row = page.locator(`#feed tr[data-order-id="${orderId}"]`);
    await row.waitFor({ timeout: 15_000 });
    await page.locator(`#feed tr[data-order-id="${orderId}"][data-status=COMPLETED]`).waitFor({ timeout: 30_000 });
    expect(navigations.filter((u) => !u.includes('#'))).toEqual([]);
    expect(await row.locator('td.num').textContent()).toBe('€39.98');
    // The update time carries its day (and the ISO instant for machines).
    const updated = row.locator('time');
    const updatedAt = (await updated.getAttribute('datetime'))!;
    expect(Date.parse(updatedAt)).not.toBeNaN();
    expect(await updated.textContent()).toContain(day(updatedAt));
    const yenFinal = await waitForFinal(order, admin!, yenOrderId);
    const yenRow = page.locator(`#feed tr[data-order-id="${yenOrderId}"][data-status=${yenFinal.status}]`);
    await yenRow.waitFor({ timeout: 15_000 });
    expect(await yenRow.locator('td.num').textContent()).toBe('¥1,000');
    // Counts come with the stats tick (every second), not with the row: wait for the tick that includes this order.
    await page.waitForFunction(
      () => Number(document.querySelector('.counts [data-status=COMPLETED] b')?.textContent ?? '0') > 0,
      undefined,
      { timeout: 10_000 },
    );
    // The rate chart has one bar per second of the last minute, and this order in one of them.
    expect(await page.locator('rate-chart rect').count()).toBe(60);
    await page.screenshot({ path: join(SHOTS, 'feed.png'), fullPage: true });

    await row.locator('a').click();
    await page.locator('#timeline li[data-type=ORDER_COMPLETED]').waitFor();
    const api = await http('GET', `${order}/orders/${orderId}/events`, admin);
    expect(await timelineTypes(page)).toEqual(api.body.map((e: { type: string }) => e.type));
    expect(await timelineTypes(page)).toEqual(
      expect.arrayContaining([
        'ORDER_CREATED',
        'INVENTORY_RESERVED',
        'PAYMENT_APPROVED',
        'ORDER_CONFIRMED',
        'ORDER_COMPLETED',
      ]),
    );
    expect(await page.locator('#timeline li[data-type=PAYMENT_APPROVED]').getAttribute('data-source')).toBe('payment');
    expect(await page.locator('#timeline li[data-type=INVENTORY_RESERVED]').getAttribute('data-source')).toBe(
      'inventory',
    );
    expect(await page.locator('#trace-id').textContent()).toMatch(/^[0-9a-f]{32}$/);
    await page.locator('#stock-effect .movement[data-kind=commit]').waitFor();
    expect(await page.locator('#payment .status').first().textContent()).toBe('APPROVED');
    expect(await page.locator('#payment dd', { hasText: '€' }).textContent()).toBe('€39.98');
    const placed = (await http('GET', `${order}/orders/${orderId}`, admin)).body;
    expect(await page.locator('#order-dates time').first().textContent()).toContain(day(placed.createdAt));
    expect(await page.locator('#timeline li time').first().textContent()).toContain(day(placed.createdAt));
    await page.screenshot({ path: join(SHOTS, 'order-completed.png'), fullPage: true });
  });

  it('follows a compensated order (inventory fails, payment refunded) to COMPENSATED with its compensation steps', async () => {
    const { admin, customer } = platform.tokens;
    const order = platform.urls.order!;
    const orderId = await placeOrder(order, customer!, {
      customerId: 'demo-customer',
      currency: 'EUR',
      items: [{ productId: 'demo-rare', quantity: 2, unitPrice: 25000 }],
    });
    await page.goto(`${order}/console/#/orders/${orderId}`);
    await page.locator('#order-status .status.COMPENSATED').waitFor({ timeout: 30_000 });
    await page.locator('#timeline li[data-type=ORDER_COMPENSATED]').waitFor();
    const types = await timelineTypes(page);
    for (const t of [
      'ORDER_CREATED',
      'INVENTORY_RESERVATION_FAILED',
      'PAYMENT_APPROVED',
      'ORDER_CANCELLED',
      'ORDER_COMPENSATION_STARTED',
      'ORDER_PAYMENT_ROLLBACK_REQUESTED',
      'PAYMENT_REFUNDED',
      'ORDER_COMPENSATED',
    ])
      expect(types, t).toContain(t);
    expect(types.indexOf('ORDER_COMPENSATED')).toBe(types.length - 1);
    expect(await page.locator('#timeline li.compensation').count()).toBeGreaterThanOrEqual(4);
    await page.locator('#payment .status.REFUNDED').waitFor();
    expect((await waitForFinal(order, admin!, orderId)).status).toBe('COMPENSATED');
    await page.screenshot({ path: join(SHOTS, 'order-compensated.png'), fullPage: true });
  });

  it('shows stock, balances, outbox and partitions', async () => {
    const order = platform.urls.order!;
    await page.goto(`${order}/console/#/stock`);
    await page.locator('#products tr[data-product-id=demo-widget]').waitFor();
    const widget = (await http('GET', `${platform.urls.inventory}/products/demo-widget`, platform.tokens.admin)).body;
    expect(await page.locator('#products tr[data-product-id=demo-widget] .available').textContent()).toBe(
      String(widget.available),
    );
    expect(await page.locator('#products tr[data-product-id=demo-widget] td.num').first().textContent()).toBe('€19.99');
    const account = (await http('GET', `${platform.urls.payment}/customers/demo-customer`, platform.tokens.admin)).body;
    expect(account.currency).toBe('EUR');
    // EUR has 2 minor units: the balance in cents, written as en-US writes euros (€9,920.04).
    const euros = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'EUR' }).format(account.balance / 100);
    expect(await page.locator('#balances tr[data-customer-id=demo-customer] td.num').textContent()).toBe(euros);
    await page.screenshot({ path: join(SHOTS, 'stock.png'), fullPage: true });
    await page.goto(`${order}/console/#/health`);
    await page.locator('#outbox tr[data-service=order]').waitFor();
    expect(await page.locator('#outbox tbody tr').count()).toBe(3);
    await page.screenshot({ path: join(SHOTS, 'health.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});

describeWith(['postgres', 'rabbitmq', 'redis', 'chromium'], 'console dead letters on RabbitMQ (distributed)', () => {
  let platform: DistributedPlatform | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await platform?.stop({ kill: true });
  });

  it('lists a poison message, inspects it, replays it (it comes back through its queue) and discards it', async () => {
    const [started, b] = await Promise.all([
      startDistributed({
        services: [['inventory', 'payment', 'order']],
        prefix: 'console',
        secret: uniqueName('secret-for-console-tests-only-0123456789'),
      }),
      launch(),
    ]);
    platform = started;
    browser = b;
    const order = platform.urls.order!;
    const admin = platform.adminToken;

    // A message that is not an envelope: inventory's consumer dead-letters it with the reason.
    const poisonId = uniqueName('poison');
    const conn = await amqp.connect(platform.amqpUrl);
    try {
      const ch = await conn.createConfirmChannel();
      ch.publish('order_events', 'order.created', Buffer.from('{"not":"an envelope"}'), {
        messageId: poisonId,
        contentType: 'application/json',
        persistent: true,
      });
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const queue = 'inventory.order_events';
    const first = await waitFor(
      async () => {
        const r = await http('GET', `${order}/admin/dead-letters/${queue}/${poisonId}`, admin);
        return r.status === 200 ? r.body : undefined;
      },
      { timeoutMs: 20_000, what: 'the poison message in inventory.order_events.dlq' },
    );

    const page = await browser.newPage(PAGE);
    page.on('dialog', (d) => void d.accept());
    await signIn(page, order, admin);
    await page.goto(`${order}/console/#/dead-letters`);
    const row = page.locator(`[data-queue="${queue}"] tr.dead-letter[data-id="${poisonId}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('.reason').textContent()).toBe(first.reason);
    await row.locator('button.inspect').click();
    await page.locator('pre:not([hidden])', { hasText: 'an envelope' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'dead-letters.png'), fullPage: true });

    await row.locator('button.replay').click();
    await page.locator('.toast', { hasText: `replayed ${poisonId}` }).waitFor();
    // Replayed into its queue, still poison: dead-lettered again, later, under the same id.
    await waitFor(
      async () => {
        const r = await http('GET', `${order}/admin/dead-letters/${queue}/${poisonId}`, admin);
        return r.status === 200 && r.body.deadLetteredAt > first.deadLetteredAt ? r.body : undefined;
      },
      { timeoutMs: 20_000, what: 'the replayed message to come back to the DLQ' },
    );

    await page.goto(`${order}/console/#/health`);
    await page.goto(`${order}/console/#/dead-letters`);
    await row.waitFor();
    await row.locator('button.discard').click();
    await page.locator('.toast', { hasText: `discarded ${poisonId}` }).waitFor();
    await waitFor(
      async () =>
        (await http('GET', `${order}/admin/dead-letters/${queue}/${poisonId}`, admin)).status === 404 || undefined,
      { timeoutMs: 10_000, what: 'the dead letter to be discarded' },
    );
    // The page lists the queues again after the action: gone from inventory's, still in payment's (both consumed it).
    await row.waitFor({ state: 'detached' });
    expect(
      await page.locator(`[data-queue="payment.order_events"] tr.dead-letter[data-id="${poisonId}"]`).count(),
    ).toBe(1);
  });
});
