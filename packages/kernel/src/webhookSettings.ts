/**
 * The webhook settings (issue 20, docs/webhooks.md): their schema, spread into config.ts's SETTINGS, and what the
 * order service reads from them.
 */
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { int, MS, oneOf } from './settingTypes.js';

/** ~5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every 2 h until about 24 h after the first attempt. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000].concat(
  Array.from({ length: 11 }, () => 7_200_000),
);

export const WEBHOOK_SETTINGS = {
  WEBHOOK_RETRY_SCHEDULE_MS: Type.String({
    pattern: '^[0-9]{1,9}(,[0-9]{1,9}){0,49}$',
    expected: 'a comma-separated list of 1 to 50 delays in milliseconds',
    default: DEFAULT_WEBHOOK_RETRY_SCHEDULE.join(','),
    description:
      'delays before each webhook retry (±20 % jitter), comma-separated; after the last one the delivery fails. Default 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then 2 h up to ~24 h',
    doc: { shownDefault: '17 steps, ~24 h' },
  }),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000, 10_000, 'a webhook attempt without a full answer within this counts as failed'),
  WEBHOOK_ALLOW_INSECURE: oneOf(['true', 'false'], 'false', '`true` accepts `http://` webhook URLs (tests, a laptop)'),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: oneOf(
    ['true', 'false'],
    'false',
    '`true` accepts webhook URLs whose host is or resolves to a loopback, private, link-local or metadata address (a warning at start)',
  ),
  WEBHOOK_SECRET_KEY: Type.Optional(
    Type.String({
      minBytes: 32,
      expected: 'at least 32 bytes',
      secret: true,
      description:
        'encrypts webhook signing secrets at rest (AES-256-GCM). Unset: the embedded default uses a public fixed key (warned at start); a distributed start cannot create endpoints',
    }),
  ),
  WEBHOOK_DISABLE_AFTER_MS: int(
    MS.s,
    365 * MS.day,
    5 * MS.day,
    'a webhook endpoint whose attempts have all failed for this long is disabled',
  ),
  WEBHOOK_LOG_RETENTION_MS: int(
    MS.s,
    365 * MS.day,
    30 * MS.day,
    'webhook delivery attempts (the delivery log) and finished deliveries are deleted after this',
  ),
  WEBHOOK_RESPONSE_BODY_LIMIT: int(
    0,
    65_536,
    2048,
    'bytes of a webhook answer read and kept in the delivery log; the rest is not read',
  ),
};

export interface WebhookSettings {
  retryScheduleMs: readonly number[];
  timeoutMs: number;
  allowInsecure: boolean;
  allowPrivateNetworks: boolean;
  /** 32-byte AES key, or undefined (distributed start without WEBHOOK_SECRET_KEY: no endpoints can be created). */
  secretKey?: Buffer;
  /** Where the key came from: the setting, or the embedded default's fixed derivation (insecure, warned). */
  secretKeySource: 'setting' | 'embedded-default' | 'none';
  disableAfterMs: number;
  logRetentionMs: number;
  responseBodyLimit: number;
}

/** The embedded default's key when WEBHOOK_SECRET_KEY is unset: public, so only fit for a laptop (docs/webhooks.md). */
export const EMBEDDED_WEBHOOK_KEY_TEXT = 'commerce-platform embedded default webhook key (set WEBHOOK_SECRET_KEY)';

export function webhookSettingsOf(
  v: {
    WEBHOOK_RETRY_SCHEDULE_MS: string;
    WEBHOOK_TIMEOUT_MS: number;
    WEBHOOK_ALLOW_INSECURE: 'true' | 'false';
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' | 'false';
    WEBHOOK_SECRET_KEY?: string;
    WEBHOOK_DISABLE_AFTER_MS: number;
    WEBHOOK_LOG_RETENTION_MS: number;
    WEBHOOK_RESPONSE_BODY_LIMIT: number;
  },
  distributed: boolean,
): WebhookSettings {
  const keyText = v.WEBHOOK_SECRET_KEY ?? (distributed ? undefined : EMBEDDED_WEBHOOK_KEY_TEXT);
  return {
    retryScheduleMs: v.WEBHOOK_RETRY_SCHEDULE_MS.split(',').map(Number),
    timeoutMs: v.WEBHOOK_TIMEOUT_MS,
    allowInsecure: v.WEBHOOK_ALLOW_INSECURE === 'true',
    allowPrivateNetworks: v.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
    secretKey: keyText === undefined ? undefined : createHash('sha256').update(keyText).digest(),
    secretKeySource: v.WEBHOOK_SECRET_KEY ? 'setting' : keyText ? 'embedded-default' : 'none',
    disableAfterMs: v.WEBHOOK_DISABLE_AFTER_MS,
    logRetentionMs: v.WEBHOOK_LOG_RETENTION_MS,
    responseBodyLimit: v.WEBHOOK_RESPONSE_BODY_LIMIT,
  };
}
