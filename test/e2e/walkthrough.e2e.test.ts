/**
 * docs/walkthrough.http (issue 23), the README walk-through as a request collection, run as it is against the
 * embedded default: every request answers 2xx and the orders it places reach the outcomes the README says.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHttpFile, runHttpFile } from '../support/httpFile.js';
import { http, type PlatformProcess, ROOT, startProcess, tempDataDir, waitForFinal } from '../support/platform.js';

describe('docs/walkthrough.http on the embedded default', () => {
  const data = tempDataDir();
  let platform: PlatformProcess | undefined;
  afterAll(async () => {
    await platform?.kill();
    data.remove();
  });

  it('answers every request with 2xx; the first order COMPLETES and the demo-rare one is COMPENSATED', {
    timeout: 120_000,
  }, async () => {
    platform = await startProcess('all', { DATA_DIR: data.dir }, { timeoutMs: 90_000 });
    const file = parseHttpFile(join(ROOT, 'docs/walkthrough.http'));
    expect(file.requests.length).toBeGreaterThanOrEqual(10);
    const answers = await runHttpFile(file, {
      overrides: { order: platform.urls.order!, inventory: platform.urls.inventory!, payment: platform.urls.payment! },
      env: { CUSTOMER_TOKEN: platform.tokens.customer!, ADMIN_TOKEN: platform.tokens.admin! },
    });
    for (const a of answers) expect(a.status, `${a.request.title}: ${JSON.stringify(a.body)}`).toBeLessThan(300);
    const [placed, , , rare] = answers;
    const customer = platform.tokens.customer!;
    const first = (placed!.body as { orderId: string }).orderId;
    expect((await waitForFinal(platform.urls.order!, customer, first)).status).toBe('COMPLETED');
    const second = (rare!.body as { orderId: string }).orderId;
    expect((await waitForFinal(platform.urls.order!, customer, second)).status).toBe('COMPENSATED');
    const balance = await http('GET', `${platform.urls.payment}/customers/demo-customer`, customer);
    expect(balance.body.balance).toBe(1_000_000 - 3998);
  });
});
