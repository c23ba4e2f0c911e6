/**
 * The console's webhooks page in a real browser (issue 20): it lists the endpoints and the delivery log of one,
 * with every attempt, and a failed delivery redriven from the page reaches the receiver. Embedded default.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM_PATH } from '../support/pieces.js';
import { http, type PlatformProcess, placeOrder, ROOT, startProcess, tempDataDir } from '../support/platform.js';
import { describeWith, waitFor } from '../support/services.js';
import { startReceiver, type WebhookReceiver } from '../support/webhookReceiver.js';
import { createEndpoint, mixedOrder, WEBHOOK_TEST_ENV } from '../support/webhooks.js';

const SHOTS = join(ROOT, 'test/console/screenshots');
mkdirSync(SHOTS, { recursive: true });
const PAGE = { viewport: { width: 1400, height: 1000 }, locale: 'en-US', timezoneId: 'UTC' } as const;

describeWith(['chromium'], 'console webhooks page on the embedded default', () => {
  const data = tempDataDir();
  let platform: PlatformProcess;
  let receiver: WebhookReceiver;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    receiver = await startReceiver();
    [platform, browser] = await Promise.all([
      startProcess('all', { DATA_DIR: data.dir, ...WEBHOOK_TEST_ENV }, { timeoutMs: 90_000 }),
      chromium.launch({
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
      }),
    ]);
    page = await browser.newPage(PAGE);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await platform?.kill();
    await receiver?.close();
    data.remove();
  });

  it('lists endpoints and the delivery log, and redrives a failed delivery from the page', {
    timeout: 120_000,
  }, async () => {
    const order = platform.urls.order!;
    const admin = platform.tokens.admin!;
    const ep = await createEndpoint(order, admin, {
      url: `${receiver.url}/console`,
      eventTypes: ['ORDER_CREATED'],
      description: 'console test',
    });
    receiver.secrets.set('/console', { s: ep.secret });
    receiver.respond = () => 500;
    const orderId = await placeOrder(order, platform.tokens.customer!, mixedOrder(0).body);
    // Three attempts (the shrunk schedule), then failed.
    const failed = await waitFor(
      async () => {
        const r = await http(
          'GET',
          `${order}/admin/webhooks/deliveries?endpointId=${ep.endpointId}&status=failed`,
          admin,
        );
        return r.body.items[0];
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the delivery to fail' },
    );
    expect(failed.orderId).toBe(orderId);

    await page.goto(`${order}/console`);
    await page.locator('console-login textarea').fill(admin);
    await page.locator('console-login button[type=submit]').click();
    await page.locator('#nav a[data-view=webhooks]').click();
    const endpointRow = page.locator(`tr.webhook-endpoint[data-endpoint-id="${ep.endpointId}"]`);
    await endpointRow.waitFor();
    expect(await endpointRow.textContent()).toContain('console test');
    const row = page.locator(`#webhook-log tr.webhook-delivery[data-delivery-id="${failed.deliveryId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('failed');
    expect(await page.locator('#webhook-log li.attempt').count()).toBe(3);
    expect(await page.locator('#webhook-log li.attempt').first().textContent()).toContain('500');
    await page.screenshot({ path: join(SHOTS, 'webhooks-failed.png'), fullPage: true });

    receiver.respond = () => 200;
    await row.locator('button.redrive').click();
    await waitFor(
      async () => {
        await page.locator('webhooks-view button.refresh').click();
        const status = await page
          .locator(`#webhook-log tr.webhook-delivery[data-delivery-id="${failed.deliveryId}"]`)
          .getAttribute('data-status', { timeout: 2000 })
          .catch(() => undefined);
        return status === 'succeeded' ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300, what: 'the redriven delivery to succeed on the page' },
    );
    const ok = receiver.of('/console').filter((r) => r.answered === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.id).toBe(failed.eventId);
    expect(ok[0]!.verifiedBy).toEqual(['s']);
    await page.screenshot({ path: join(SHOTS, 'webhooks-redriven.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
