/**
 * The console's analytics page in a real browser (issue 19): charts and tables of the sales analytics projection,
 * drawn with uPlot (served from the package, no build step), showing a new order's revenue within 2 s of its
 * completion without a reload. And the projections page: every projection's state, and a rebuild started from its
 * button, followed to the swap. Embedded default, one process.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM_PATH } from '../support/pieces.js';
import {
  http,
  type PlatformProcess,
  placeOrder,
  ROOT,
  startProcess,
  tempDataDir,
  waitForFinal,
} from '../support/platform.js';
import { describeWith } from '../support/services.js';

const SHOTS = join(ROOT, 'test/console/screenshots');
mkdirSync(SHOTS, { recursive: true });
const PAGE = { viewport: { width: 1400, height: 1600 }, locale: 'en-US', timezoneId: 'UTC' } as const;
const eur = (minor: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'EUR' }).format(minor / 100);

describeWith(['chromium'], 'console analytics page on the embedded default', () => {
  const data = tempDataDir();
  let platform: PlatformProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [platform, browser] = await Promise.all([
      startProcess('all', { DATA_DIR: data.dir }, { timeoutMs: 90_000 }),
      chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-gpu'] }),
    ]);
    page = await browser.newPage(PAGE);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.kill();
    data.remove();
  });

  it("shows a new order's revenue within 2 s of its completion, without a reload, in uPlot charts", async () => {
    const { admin, customer } = platform.tokens;
    const order = platform.urls.order!;
    const revenueOf = async () =>
      (
        (await http('GET', `${order}/admin/analytics?period=day`, admin)).body.sales as {
          currency: string;
          revenue: number;
        }[]
      )
        .filter((s) => s.currency === 'EUR')
        .reduce((n, s) => n + s.revenue, 0);
    const before = await revenueOf();

    await page.goto(`${order}/console`);
    await page.locator('console-login textarea').fill(admin!);
    await page.locator('console-login button[type=submit]').click();
    await page.locator('#nav').waitFor({ state: 'visible' });
    await page.locator('#nav a[data-view=analytics]').click();
    await page.locator('analytics-view[data-state=live]').waitFor();
    const navigations: string[] = [];
    page.on('framenavigated', (f) => navigations.push(f.url()));

    const orderId = await placeOrder(order, customer!, {
      customerId: 'demo-customer',
      currency: 'EUR',
      items: [{ productId: 'demo-widget', quantity: 2, unitPrice: 1999 }],
    });
    const final = await waitForFinal(order, customer!, orderId);
    expect(final.status).toBe('COMPLETED');
    const completedAt = Date.now();
    await page
      .locator('#analytics-totals tr[data-currency=EUR] td.revenue', { hasText: eur(before + 3998) })
      .waitFor({ timeout: 2000 });
    expect(Date.now() - completedAt).toBeLessThan(2000);
    expect(navigations.filter((u) => !u.includes('#'))).toEqual([]);

    // The charts are uPlot's (canvas), the outcome shares and top products tables are filled.
    expect(await page.locator('analytics-view .uplot canvas').count()).toBeGreaterThanOrEqual(3);
    expect(
      Number(await page.locator('#analytics-outcomes tr[data-status=COMPLETED] td.num').first().textContent()),
    ).toBeGreaterThanOrEqual(1);
    await page.locator('#analytics-products tr[data-product-id=demo-widget]').waitFor();
    await page.screenshot({ path: join(SHOTS, 'analytics.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('lists every projection with its state and rebuilds one from its button, followed to the swap', async () => {
    const { admin, customer } = platform.tokens;
    const order = platform.urls.order!;
    await page.locator('#nav a[data-view=projections]').click();
    const row = (name: string) => page.locator(`#projections tr[data-projection=${name}]`);
    await row('orders').locator('td.state', { hasText: 'inline' }).waitFor();
    await row('analytics').locator('td.state', { hasText: 'running' }).waitFor();
    await row('customer_history').locator('td.state', { hasText: 'running' }).waitFor();
    const analyticsBefore = (await http('GET', `${order}/admin/analytics?period=day`, admin)).body;

    for (const name of ['analytics', 'orders']) {
      await row(name).locator('button', { hasText: 'Rebuild' }).click();
      await row(name).locator('td.progress [data-phase=swapped]').waitFor({ timeout: 30_000 });
      await row(name).locator('button', { hasText: 'Rebuild' }).waitFor();
    }
    // The swapped-in tables answer as the live ones did: the same analytics, the order still there.
    expect((await http('GET', `${order}/admin/analytics?period=day`, admin)).body).toEqual(analyticsBefore);
    const orders = await http('GET', `${order}/orders?customerId=demo-customer`, customer);
    expect(orders.status).toBe(200);
    expect((orders.body.items as unknown[]).length).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: join(SHOTS, 'projections.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 90_000);
});
