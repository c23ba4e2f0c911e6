import { describe, expect, it } from 'vitest';
import { ConfigError, loadSettings, parseRateLimit, SETTING_NAMES, SETTINGS } from './config.js';

const pg = (db: string) => `postgres://postgres@127.0.0.1:5432/${db}`;
const distributed = {
  ORDER_DATABASE_URL: pg('o'),
  INVENTORY_DATABASE_URL: pg('i'),
  PAYMENT_DATABASE_URL: pg('p'),
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  JWT_SECRET: 'x'.repeat(32),
};

function failure(env: Record<string, string>, services?: ('order' | 'inventory' | 'payment')[]): string {
  try {
    loadSettings(env, services);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSettings', () => {
  it('gives the SPEC §3 defaults with nothing set: the embedded default', () => {
    const s = loadSettings({});
    expect(s).toMatchObject({
      mode: 'embedded',
      host: '127.0.0.1',
      ports: { order: 3000, inventory: 3001, payment: 3002 },
      dataDir: './.data',
      orderPartitions: 16,
      sagaTimeoutMs: 30_000,
      reservationTtlMs: 900_000,
      rateLimit: { max: 600, windowMs: 60_000 },
      logLevel: 'info',
      authDisabled: false,
      inboxRetentionMs: 7 * 86_400_000,
      idempotencyKeyRetentionMs: 86_400_000,
    });
  });

  it('is distributed with every URL set', () => {
    const s = loadSettings({ ...distributed, REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(s.mode).toBe('distributed');
    expect(s.databaseUrls).toEqual({ order: pg('o'), inventory: pg('i'), payment: pg('p') });
  });

  it('names the setting and what was expected, in one line', () => {
    expect(failure({ ORDER_PORT: 'eighty' })).toMatch(/^ORDER_PORT="eighty": expected an integer from 0 to 65535$/);
    expect(failure({ PAYMENT_PORT: '70000' })).toMatch(/PAYMENT_PORT=70000: expected an integer/);
    expect(failure({ AMQP_URL: 'http://x' })).toMatch(/^AMQP_URL: expected an amqp or amqps URL, got http:\/\/$/);
    expect(failure({ ORDER_DATABASE_URL: 'not a url' })).toMatch(/ORDER_DATABASE_URL: expected a URL/);
    expect(failure({ SAGA_TIMEOUT_MS: '-5' })).toMatch(/SAGA_TIMEOUT_MS/);
    expect(failure({ ORDER_PARTITIONS: '0' })).toMatch(/ORDER_PARTITIONS=0: expected an integer from 1/);
    expect(failure({ RATE_LIMIT: '10/fortnight' })).toMatch(/RATE_LIMIT="10\/fortnight": expected N\/second/);
    expect(failure({ LOG_LEVEL: 'loud' })).toMatch(/LOG_LEVEL="loud": expected one of/);
    expect(failure({ AUTH_DISABLED: 'yes' })).toMatch(/AUTH_DISABLED="yes": expected true or false/);
    expect(failure({ JWT_SECRET: 'short' })).toMatch(/JWT_SECRET: expected at least 32 bytes/);
    expect(failure({ INVENTORY_URL: 'ftp://x' })).toMatch(/INVENTORY_URL: expected a http or https URL/);
    // Shorter than an hour would let a redelivery find no inbox row and apply its effect again.
    expect(failure({ INBOX_RETENTION_MS: '60000' })).toMatch(
      /^INBOX_RETENTION_MS=60000: expected an integer from 3600000/,
    );
  });

  it('reads COMPENSATION_TIMEOUT_MS, by default three times SAGA_TIMEOUT_MS, at least 100 ms', () => {
    expect(loadSettings({}).compensationTimeoutMs).toBe(90_000);
    expect(loadSettings({ SAGA_TIMEOUT_MS: '1000' }).compensationTimeoutMs).toBe(3000);
    expect(loadSettings({ SAGA_TIMEOUT_MS: '1000', COMPENSATION_TIMEOUT_MS: '250' }).compensationTimeoutMs).toBe(250);
    expect(failure({ COMPENSATION_TIMEOUT_MS: '99' })).toMatch(
      /^COMPENSATION_TIMEOUT_MS=99: expected an integer from 100 /,
    );
  });

  it('refuses what the parts would refuse later, naming the setting: OUTBOX_RETENTION_MS=0', () => {
    expect(failure({ OUTBOX_RETENTION_MS: '0' })).toMatch(/^OUTBOX_RETENTION_MS=0: expected an integer from 1 /);
    expect(loadSettings({ OUTBOX_RETENTION_MS: '1' }).outboxRetentionMs).toBe(1);
  });

  it('reads the tracing, peer and CLI settings', () => {
    const s = loadSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D, tenant = t1',
      OTEL_SERVICE_NAME: 'order',
      INVENTORY_URL: 'http://inventory:3001',
      PAYMENT_URL: 'http://payment:3002',
      COMMERCE_TOKEN: 'a.b.c',
    });
    expect(s).toMatchObject({
      otlpEndpoint: 'http://collector:4318',
      otlpHeaders: { 'x-api-key': 'abc=', tenant: 't1' },
      otelServiceName: 'order',
      peerUrls: { inventory: 'http://inventory:3001', payment: 'http://payment:3002' },
      commerceToken: 'a.b.c',
    });
    expect(loadSettings({})).toMatchObject({ otlpHeaders: {}, otlpProtocol: 'http/protobuf', peerUrls: {} });
    expect(loadSettings({}).otelServiceName).toBeUndefined();
    expect(failure({ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).toBe(
      'OTEL_EXPORTER_OTLP_HEADERS: expected key=value pairs separated by commas',
    );
  });

  it('never repeats a secret in its message', () => {
    expect(failure({ JWT_SECRET: 'hunter2' })).toBe('JWT_SECRET: expected at least 32 bytes for HS256');
    expect(failure({ OTEL_EXPORTER_OTLP_HEADERS: 'key' })).not.toContain('key,');
    expect(failure({ AMQP_URL: 'http://guest:secret@x' })).not.toContain('secret');
  });

  it('describes every setting: its meaning, and a default or none on purpose', () => {
    for (const name of SETTING_NAMES) {
      const schema = SETTINGS.properties[name];
      expect(schema.description, name).toMatch(/\S/);
      expect(schema.description, name).not.toContain('\n');
    }
    // Every default passes its own schema.
    expect(() => loadSettings({})).not.toThrow();
  });

  it('refuses contradictions', () => {
    expect(failure({ ORDER_DATABASE_URL: pg('o') }, ['order'])).toMatch(
      /ORDER_DATABASE_URL is set but AMQP_URL is not/,
    );
    const { PAYMENT_DATABASE_URL: _, ...noPayment } = distributed;
    expect(failure(noPayment)).toMatch(/PAYMENT_DATABASE_URL is not/);
    expect(failure({ ...distributed, JWT_JWKS_URL: 'https://idp.example/jwks' })).toMatch(/both set/);
  });

  it('refuses a distributed start without auth settings unless AUTH_DISABLED=true', () => {
    const { JWT_SECRET: _, ...noAuth } = distributed;
    expect(failure(noAuth)).toMatch(/no JWT_SECRET or JWT_JWKS_URL: a distributed start needs one/);
    expect(loadSettings({ ...noAuth, AUTH_DISABLED: 'true' }).authDisabled).toBe(true);
    expect(loadSettings({ ...noAuth, JWT_JWKS_URL: 'https://idp.example/jwks' }).jwtJwksUrl).toBe(
      'https://idp.example/jwks',
    );
  });

  it('needs only the URLs of the services this process runs', () => {
    const s = loadSettings(
      { ORDER_DATABASE_URL: pg('o'), AMQP_URL: distributed.AMQP_URL, JWT_SECRET: 'x'.repeat(32) },
      ['order'],
    );
    expect(s.mode).toBe('distributed');
  });
});

describe('parseRateLimit', () => {
  it('reads N per window or off', () => {
    expect(parseRateLimit('5/second')).toEqual({ max: 5, windowMs: 1000 });
    expect(parseRateLimit('100/hour')).toEqual({ max: 100, windowMs: 3_600_000 });
    expect(parseRateLimit('off')).toBeNull();
    expect(() => parseRateLimit('0/minute')).toThrow(ConfigError);
  });
});
