import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings } from './config.js';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE } from './webhookSettings.js';

const distributed = {
  ORDER_DATABASE_URL: 'postgres://x/o',
  INVENTORY_DATABASE_URL: 'postgres://x/i',
  PAYMENT_DATABASE_URL: 'postgres://x/p',
  AMQP_URL: 'amqp://x',
  AUTH_DISABLED: 'true',
};

describe('webhook settings', () => {
  it('defaults: ~24 h of retries, 10 s timeout, https only, no private networks, 5 days, 2 KB', () => {
    const w = loadSettings({}).webhooks;
    expect(w.retryScheduleMs).toEqual(DEFAULT_WEBHOOK_RETRY_SCHEDULE);
    const total = DEFAULT_WEBHOOK_RETRY_SCHEDULE.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(23 * 3_600_000);
    expect(total).toBeLessThanOrEqual(24 * 3_600_000);
    expect(w).toMatchObject({
      timeoutMs: 10_000,
      allowInsecure: false,
      allowPrivateNetworks: false,
      disableAfterMs: 5 * 86_400_000,
      responseBodyLimit: 2048,
    });
  });

  it('the key: the setting when set; else the embedded default key, and none in a distributed start', () => {
    const set = loadSettings({ WEBHOOK_SECRET_KEY: 'k'.repeat(32) }).webhooks;
    expect(set.secretKeySource).toBe('setting');
    expect(set.secretKey).toHaveLength(32);
    const embedded = loadSettings({}).webhooks;
    expect(embedded.secretKeySource).toBe('embedded-default');
    expect(embedded.secretKey?.equals(set.secretKey as Buffer)).toBe(false);
    const dist = loadSettings(distributed).webhooks;
    expect(dist.secretKeySource).toBe('none');
    expect(dist.secretKey).toBeUndefined();
    expect(loadSettings({ ...distributed, WEBHOOK_SECRET_KEY: 'k'.repeat(32) }).webhooks.secretKeySource).toBe(
      'setting',
    );
  });

  it.each([
    ['WEBHOOK_RETRY_SCHEDULE_MS', '5s,10s', 'WEBHOOK_RETRY_SCHEDULE_MS="5s,10s": expected a comma-separated list'],
    ['WEBHOOK_TIMEOUT_MS', '50', 'WEBHOOK_TIMEOUT_MS=50: expected an integer from 100 to 120000'],
    ['WEBHOOK_ALLOW_PRIVATE_NETWORKS', 'yes', 'WEBHOOK_ALLOW_PRIVATE_NETWORKS="yes": expected true or false'],
    ['WEBHOOK_SECRET_KEY', 'short', 'WEBHOOK_SECRET_KEY: expected at least 32 bytes'],
  ])('%s=%s stops the start naming the setting', (name, value, message) => {
    expect(() => loadSettings({ [name]: value })).toThrow(ConfigError);
    expect(() => loadSettings({ [name]: value })).toThrow(message);
  });

  it('a shrunk schedule for tests', () => {
    expect(loadSettings({ WEBHOOK_RETRY_SCHEDULE_MS: '300,600' }).webhooks.retryScheduleMs).toEqual([300, 600]);
  });
});
