/**
 * The console's risk review queue in a real browser (issue 21, docs/risk.md): a held order shows with its reasons,
 * and approving it from the page completes the order. Embedded default, one process, with an amount rule on.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM_PATH } from '../support/pieces.js';
import {
  type PlatformProcess,
  placeOrder,
  ROOT,
  startProcess,
  tempDataDir,
  waitForFinal,
  waitForStatus,
} from '../support/platform.js';
import { describeWith } from '../support/services.js';

const SHOTS = join(ROOT, 'test/console/screenshots');
mkdirSync(SHOTS, { recursive: true });
const PAGE = { viewport: { width: 1400, height: 900 }, locale: 'en-US', timezoneId: 'UTC' } as const;

describeWith(['chromium'], 'console review queue on the embedded default', () => {
  const data = tempDataDir();
  let platform: PlatformProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [platform, browser] = await Promise.all([
      startProcess('all', { DATA_DIR: data.dir, RISK_AMOUNT_LIMIT: '5000' }, { timeoutMs: 90_000 }),
      chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: ['--no-sandbox', '--disable-gpu'] }),
    ]);
    page = await browser.newPage(PAGE);
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('dialog', (d) => d.accept());
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.kill();
    data.remove();
  });

  it('shows a held order with its reasons; approving it from the page completes the order', async () => {
    const { admin, customer } = platform.tokens;
    const order = platform.urls.order!;
    const ordinary = await placeOrder(order, customer!, {
      customerId: 'demo-customer',
      currency: 'EUR',
      items: [{ productId: 'demo-widget', quantity: 1, unitPrice: 1999 }],
    });
    expect((await waitForFinal(order, customer!, ordinary)).status).toBe('COMPLETED');
    // 3 × 19.99 = 59.97 EUR over RISK_AMOUNT_LIMIT (50.00): held for review.
    const held = await placeOrder(order, customer!, {
      customerId: 'demo-customer',
      currency: 'EUR',
      items: [{ productId: 'demo-widget', quantity: 3, unitPrice: 1999 }],
    });
    await waitForStatus(order, customer!, held, 'UNDER_REVIEW');

    await page.goto(`${order}/console`);
    await page.locator('console-login textarea').fill(admin!);
    await page.locator('console-login button[type=submit]').click();
    await page.locator('#nav').waitFor({ state: 'visible' });
    await page.locator('#nav a[data-view=reviews]').click();
    const row = page.locator(`review-queue-view tr.review[data-order-id="${held}"]`);
    await row.waitFor();
    expect(await row.locator('li.reason').allTextContents()).toEqual(['RISK_AMOUNT: total 5997 over 5000']);
    expect(await row.locator('td.score').textContent()).toBe('60');
    await page.screenshot({ path: join(SHOTS, 'reviews.png'), fullPage: true });

    await row.locator('button.approve').click();
    expect((await waitForFinal(order, customer!, held)).status).toBe('COMPLETED');
    await page.locator('review-queue-view [data-empty=true]').waitFor();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
