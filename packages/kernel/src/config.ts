/**
 * The settings (SPEC §3): one schema, `SETTINGS`, from which both the validation at start and the README's settings
 * table come (`npm run docs:settings`). A bad value stops the start with one line naming the setting and what was
 * expected; so do contradictions between settings.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { LOG_SETTINGS, TELEMETRY_SETTINGS } from './observabilitySettings.js';
import { RISK_SETTINGS, type RiskSettings, riskSettingsOf } from './riskSettings.js';
import { expectedOf, int, MS, oneOf, optionalInt, type SettingDoc, url } from './settingTypes.js';
import { WEBHOOK_SETTINGS, type WebhookSettings, webhookSettingsOf } from './webhookSettings.js';

export { expectedOf, type SettingDoc } from './settingTypes.js';

export type ServiceName = 'order' | 'inventory' | 'payment';
export const SERVICE_NAMES: readonly ServiceName[] = ['order', 'inventory', 'payment'];

export interface RateLimitSetting {
  max: number;
  windowMs: number;
}

export interface Settings {
  mode: 'embedded' | 'distributed';
  host: string;
  ports: Record<ServiceName, number>;
  databaseUrls: Partial<Record<ServiceName, string>>;
  amqpUrl?: string;
  redisUrl?: string;
  dataDir: string;
  jwtSecret?: string;
  jwtJwksUrl?: string;
  authDisabled: boolean;
  orderPartitions: number;
  sagaTimeoutMs: number;
  /** Rollbacks not acknowledged this long after the cancellation ⇒ COMPENSATION_FAILED (default 3 × saga timeout). */
  compensationTimeoutMs: number;
  reservationTtlMs: number;
  /** Payment's risk rules (riskSettings.ts). */
  risk: RiskSettings;
  /** REVIEW_TIMEOUT_MS: an order UNDER_REVIEW this long is rejected. */
  reviewTimeoutMs: number;
  rateLimit: RateLimitSetting | null;
  logLevel: string;
  /** LOG_FORMAT: json, pretty, or auto (pretty on a terminal). */
  logFormat: 'auto' | 'json' | 'pretty';
  dbPoolSize: number;
  dbStatementTimeoutMs: number;
  dedupTtlSeconds: number;
  outboxRetentionMs: number;
  /** `commit`: the process that commits outbox rows publishes them at once; the relay takes what is left. */
  outboxDispatch: 'commit' | 'relay';
  /** With dispatch at commit: how long a row may stay unpublished before a relay takes it. */
  outboxRelayGraceMs: number;
  /** RabbitMQ queue type of the services' queues. */
  queueType: 'quorum' | 'classic';
  inboxRetentionMs: number;
  /** How long an Idempotency-Key (orders, restocks, top-ups) answers the same result again. */
  idempotencyKeyRetentionMs: number;
  maxDeliveryAttempts: number;
  /** OTLP/HTTP collector base URL: spans go to `<otlpEndpoint>/v1/traces`. Unset ⇒ nothing is exported. */
  otlpEndpoint?: string;
  /** Headers added to each OTLP export (OTEL_EXPORTER_OTLP_HEADERS). */
  otlpHeaders: Record<string, string>;
  /** `service.name` of the exported spans. */
  otelServiceName?: string;
  /** OTLP/HTTP encoding (OTEL_EXPORTER_OTLP_PROTOCOL). */
  otlpProtocol: 'http/protobuf' | 'http/json';
  /** CloudWatch EMF lines (outbox lag, dead letters) every intervalMs; undefined: none. */
  emf?: { intervalMs: number; namespace: string };
  /** Where the order service's console proxy reaches the other services when they run in other processes. */
  peerUrls: Partial<Record<'inventory' | 'payment', string>>;
  /** The bearer token the `commerce` CLI sends (read by the CLI only). */
  commerceToken?: string;
  // Checkpointed subscriptions (subscription.ts) and the projections on them.
  /** A subscription's lease: another instance takes over this long after its leader stopped renewing it. */
  subscriptionLeaseMs: number;
  /** Webhook deliveries (webhookSettings.ts). */
  webhooks: WebhookSettings;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/**
 * Every setting: its environment variable, default, bounds or format, and its meaning (the README's wording).
 * Durations end in `_MS` (milliseconds) or `_SECONDS`.
 */
export const SETTINGS = Type.Object({
  ORDER_PORT: int(0, 65535, 3000, 'HTTP port of each service (0 = any free port)', { doc: { row: 'ports' } }),
  INVENTORY_PORT: int(0, 65535, 3001, 'HTTP port of the inventory service', { doc: { row: 'ports' } }),
  PAYMENT_PORT: int(0, 65535, 3002, 'HTTP port of the payment service', { doc: { row: 'ports' } }),
  HOST: Type.String({
    pattern: '^[A-Za-z0-9.:_-]+$',
    expected: 'an address or host name',
    default: '127.0.0.1',
    description: 'bind address (the images set 0.0.0.0)',
  }),
  ORDER_DATABASE_URL: url(
    ['postgres', 'postgresql'],
    "PostgreSQL URL of each service's own database; created and migrated at start if missing",
    { doc: { row: 'databases' } },
  ),
  INVENTORY_DATABASE_URL: url(['postgres', 'postgresql'], "PostgreSQL URL of the inventory service's database", {
    doc: { row: 'databases' },
  }),
  PAYMENT_DATABASE_URL: url(['postgres', 'postgresql'], "PostgreSQL URL of the payment service's database", {
    doc: { row: 'databases' },
  }),
  AMQP_URL: url(['amqp', 'amqps'], 'RabbitMQ URL; set ⇒ the RabbitMQ adapter is used'),
  REDIS_URL: url(['redis', 'rediss'], 'Redis URL (de-duplication fast path, shared rate limits)'),
  DATA_DIR: Type.String({
    minLength: 1,
    default: './.data',
    description: 'embedded-default data: one PGlite database per service and the generated JWT secret',
  }),
  JWT_SECRET: Type.Optional(
    Type.String({
      minBytes: 32,
      expected: 'at least 32 bytes for HS256',
      secret: true,
      description: 'HS256 secret that signs and verifies bearer tokens (not with `JWT_JWKS_URL`)',
    }),
  ),
  JWT_JWKS_URL: url(['http', 'https'], 'JWKS URL for RS256/ES256 tokens (cached, refetched on unknown `kid`)'),
  AUTH_DISABLED: oneOf(
    ['true', 'false'],
    'false',
    '`true` lets a distributed start run without auth settings (every caller is an admin; a warning is logged at every start)',
  ),
  ORDER_PARTITIONS: int(1, 1024, 16, 'number of order partitions (changing it remaps orders: drain first)'),
  SAGA_TIMEOUT_MS: int(
    100,
    MS.day,
    30_000,
    'an order still PENDING this long after creation is cancelled and compensated',
  ),
  COMPENSATION_TIMEOUT_MS: optionalInt(
    100,
    7 * MS.day,
    'rollbacks not acknowledged this long after the cancellation ⇒ `COMPENSATION_FAILED`',
    { doc: { shownDefault: '3 × `SAGA_TIMEOUT_MS`' } },
  ),
  RESERVATION_TTL_MS: int(
    1000,
    30 * MS.day,
    900_000,
    'a reservation neither committed nor released this long is released',
  ),
  RATE_LIMIT: Type.String({
    pattern: '^(off|0*[1-9][0-9]*/(second|minute|hour))$',
    expected: 'N/second, N/minute, N/hour (N ≥ 1) or off',
    default: '600/minute',
    description:
      "per client (the token's `sub`, else the address): `N/second`, `N/minute`, `N/hour` or `off`; shared through Redis when `REDIS_URL` is set",
  }),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info', 'pino level'),
  ...LOG_SETTINGS,
  DB_POOL_SIZE: int(
    1,
    200,
    8,
    'PostgreSQL connections per service process (more than ~8 only adds latency on 2 cores)',
  ),
  DB_STATEMENT_TIMEOUT_MS: int(100, 600_000, 10_000, 'statement timeout of every pooled connection'),
  DEDUP_TTL_SECONDS: int(
    60,
    90 * 86_400,
    7 * 86_400,
    'how long Redis remembers a handled message id (the inbox table is the record; this only skips faster)',
  ),
  // The relay accepts any positive retention: 0 would be refused by it, after the start, naming no setting.
  OUTBOX_RETENTION_MS: int(1, 90 * MS.day, MS.day, 'published outbox rows are deleted after this'),
  OUTBOX_DISPATCH: oneOf(
    ['commit', 'relay'],
    'commit',
    '`commit`: the process that commits a change publishes its messages at once and the relay only takes rows left unpublished past `OUTBOX_RELAY_GRACE_MS`; `relay`: the relay publishes every row (woken by NOTIFY)',
  ),
  OUTBOX_RELAY_GRACE_MS: int(
    100,
    10 * MS.min,
    2000,
    'with dispatch at commit: a row still unpublished this long after its commit (its process died, the broker refused it) is published by a relay',
  ),
  QUEUE_TYPE: oneOf(
    ['quorum', 'classic'],
    'quorum',
    "RabbitMQ queue type of the consumers' queues: `quorum` (replicated, what a cluster needs) or `classic`; an existing queue keeps its type (delete it, drained, to change)",
  ),
  // At least an hour: a redelivery (broker, or the relay after a crash) must still find its inbox row.
  INBOX_RETENTION_MS: int(
    MS.h,
    365 * MS.day,
    7 * MS.day,
    'inbox rows (the record that a message was handled) are deleted after this',
  ),
  // At least an hour: a client retrying after a timeout must still get the first answer back.
  IDEMPOTENCY_KEY_RETENTION_MS: int(
    MS.h,
    365 * MS.day,
    MS.day,
    'Idempotency-Key records (orders, restocks, top-ups) are kept this long, then pruned',
  ),
  MAX_DELIVERY_ATTEMPTS: int(1, 100, 5, 'handler attempts before a message is dead-lettered'),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(
    ['http', 'https'],
    'OTLP/HTTP collector: the OpenTelemetry SDK exports spans to `<endpoint>/v1/traces` when set (unset: no exporter)',
  ),
  OTEL_EXPORTER_OTLP_HEADERS: Type.Optional(
    Type.String({
      pattern: '^[^=,]+=[^,]*(,[^=,]+=[^,]*)*$',
      expected: 'key=value pairs separated by commas',
      secret: true,
      description: '`key=value,key2=value2` (URL-encoded) added to each OTLP export, e.g. an API key',
    }),
  ),
  ...TELEMETRY_SETTINGS,
  OTEL_SERVICE_NAME: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        '`service.name` of the exported spans; unset: the service the process runs (`order`, `inventory`, `payment`, or `platform` for all three)',
    }),
  ),
  INVENTORY_URL: url(
    ['http', 'https'],
    "where the order service's console proxy reaches inventory and payment when they run in other processes",
    { doc: { row: 'peers' } },
  ),
  PAYMENT_URL: url(['http', 'https'], "where the order service's console proxy reaches payment", {
    doc: { row: 'peers' },
  }),
  COMMERCE_TOKEN: Type.Optional(
    Type.String({
      minLength: 1,
      secret: true,
      description:
        "bearer token sent to the platform's admin routes (else an admin token is signed with `JWT_SECRET` or the secret under `DATA_DIR`)",
      doc: { cli: true },
    }),
  ),
  // Checkpointed subscriptions (subscription.ts) and the projections on them.
  SUBSCRIPTION_LEASE_MS: int(
    1000,
    10 * MS.min,
    10_000,
    'one process runs each subscription (projection); another takes over this long after it stopped renewing its lease',
  ),
  // Risk review before payment (riskSettings.ts, docs/risk.md).
  ...RISK_SETTINGS,
  ...WEBHOOK_SETTINGS,
});

export type SettingName = keyof typeof SETTINGS.properties;
/** A setting's schema, as the README generator reads it. */
export type SettingSchema = TSchema & { description: string; doc?: SettingDoc };
export type SettingValues = Static<typeof SETTINGS>;
export const SETTING_NAMES = Object.keys(SETTINGS.properties) as SettingName[];

/** One setting from its raw text: undefined when unset (empty counts as unset); throws a one-line ConfigError. */
function readSetting(name: SettingName, raw: string | undefined): unknown {
  const schema: TSchema = SETTINGS.properties[name];
  const text = schema.secret ? raw : raw?.trim();
  if (text === undefined || text === '') return schema.default;
  if (schema.protocols) {
    const protocols = schema.protocols as string[];
    if (!URL.canParse(text))
      throw new ConfigError(`${name}: expected a URL (${protocols.join(' or ')}), got something unparseable`);
    if (!Value.Check(schema, text))
      throw new ConfigError(
        `${name}: expected ${expectedOf(schema)}, got ${new URL(text).protocol.replace(/:$/, '')}://`,
      );
    return text;
  }
  const value = schema.type === 'integer' && /^\d+$/.test(text) ? Number(text) : text;
  const ok =
    Value.Check(schema, value) && (schema.minBytes === undefined || Buffer.byteLength(text) >= schema.minBytes);
  if (ok) return value;
  if (schema.secret) throw new ConfigError(`${name}: expected ${expectedOf(schema)}`);
  throw new ConfigError(
    `${name}=${typeof value === 'number' ? value : JSON.stringify(text)}: expected ${expectedOf(schema)}`,
  );
}

/** Every setting, validated against SETTINGS, with the defaults filled in. */
export function readSettings(env: Env): SettingValues {
  const values: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    const v = readSetting(name, env[name]);
    if (v !== undefined) values[name] = v;
  }
  return values as SettingValues;
}

export function parseRateLimit(raw: string | undefined): RateLimitSetting | null {
  const value = readSetting('RATE_LIMIT', raw) as string;
  if (value === 'off') return null;
  const [n, unit] = value.split('/') as [string, 'second' | 'minute' | 'hour'];
  return { max: Number(n), windowMs: { second: MS.s, minute: MS.min, hour: MS.h }[unit] };
}

function parseHeaders(raw: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of raw ? raw.split(',') : []) {
    const i = pair.indexOf('=');
    try {
      headers[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      throw new ConfigError('OTEL_EXPORTER_OTLP_HEADERS: expected URL-encoded key=value pairs separated by commas');
    }
  }
  return headers;
}

/**
 * Reads the settings for the services this process will run.
 * Embedded ⇔ no database URL and no AMQP_URL for them; anything in between is contradictory.
 */
export function loadSettings(env: Env = process.env, services: readonly ServiceName[] = SERVICE_NAMES): Settings {
  const v = readSettings(env);
  const databaseUrls: Partial<Record<ServiceName, string>> = {};
  if (v.ORDER_DATABASE_URL) databaseUrls.order = v.ORDER_DATABASE_URL;
  if (v.INVENTORY_DATABASE_URL) databaseUrls.inventory = v.INVENTORY_DATABASE_URL;
  if (v.PAYMENT_DATABASE_URL) databaseUrls.payment = v.PAYMENT_DATABASE_URL;
  if (v.JWT_SECRET && v.JWT_JWKS_URL)
    throw new ConfigError('JWT_SECRET and JWT_JWKS_URL are both set: expected one of them');
  const authDisabled = v.AUTH_DISABLED === 'true';

  const withUrl = services.filter((s) => databaseUrls[s]);
  const distributed = withUrl.length > 0 || v.AMQP_URL !== undefined;
  if (distributed) {
    if (!v.AMQP_URL)
      throw new ConfigError(
        `${withUrl[0]?.toUpperCase()}_DATABASE_URL is set but AMQP_URL is not: a service with its own PostgreSQL talks through RabbitMQ`,
      );
    const missing = services.find((s) => !databaseUrls[s]);
    if (missing)
      throw new ConfigError(
        `AMQP_URL is set but ${missing.toUpperCase()}_DATABASE_URL is not: expected a PostgreSQL URL for every service started`,
      );
    if (!v.JWT_SECRET && !v.JWT_JWKS_URL && !authDisabled)
      throw new ConfigError(
        'no JWT_SECRET or JWT_JWKS_URL: a distributed start needs one (or AUTH_DISABLED=true, explicitly)',
      );
  }

  return {
    mode: distributed ? 'distributed' : 'embedded',
    host: v.HOST,
    ports: { order: v.ORDER_PORT, inventory: v.INVENTORY_PORT, payment: v.PAYMENT_PORT },
    databaseUrls,
    amqpUrl: v.AMQP_URL,
    redisUrl: v.REDIS_URL,
    dataDir: v.DATA_DIR,
    jwtSecret: v.JWT_SECRET,
    jwtJwksUrl: v.JWT_JWKS_URL,
    authDisabled,
    orderPartitions: v.ORDER_PARTITIONS,
    sagaTimeoutMs: v.SAGA_TIMEOUT_MS,
    compensationTimeoutMs: v.COMPENSATION_TIMEOUT_MS ?? 3 * v.SAGA_TIMEOUT_MS,
    reservationTtlMs: v.RESERVATION_TTL_MS,
    rateLimit: parseRateLimit(v.RATE_LIMIT),
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    dbPoolSize: v.DB_POOL_SIZE,
    dbStatementTimeoutMs: v.DB_STATEMENT_TIMEOUT_MS,
    dedupTtlSeconds: v.DEDUP_TTL_SECONDS,
    outboxRetentionMs: v.OUTBOX_RETENTION_MS,
    outboxDispatch: v.OUTBOX_DISPATCH,
    outboxRelayGraceMs: v.OUTBOX_RELAY_GRACE_MS,
    queueType: v.QUEUE_TYPE,
    inboxRetentionMs: v.INBOX_RETENTION_MS,
    idempotencyKeyRetentionMs: v.IDEMPOTENCY_KEY_RETENTION_MS,
    maxDeliveryAttempts: v.MAX_DELIVERY_ATTEMPTS,
    otlpEndpoint: v.OTEL_EXPORTER_OTLP_ENDPOINT,
    otlpHeaders: parseHeaders(v.OTEL_EXPORTER_OTLP_HEADERS),
    otelServiceName: v.OTEL_SERVICE_NAME,
    otlpProtocol: v.OTEL_EXPORTER_OTLP_PROTOCOL,
    emf: v.CLOUDWATCH_EMF_INTERVAL_MS
      ? { intervalMs: v.CLOUDWATCH_EMF_INTERVAL_MS, namespace: v.CLOUDWATCH_METRICS_NAMESPACE }
      : undefined,
    peerUrls: { inventory: v.INVENTORY_URL, payment: v.PAYMENT_URL },
    commerceToken: v.COMMERCE_TOKEN,
    subscriptionLeaseMs: v.SUBSCRIPTION_LEASE_MS,
    risk: riskSettingsOf(v),
    reviewTimeoutMs: v.REVIEW_TIMEOUT_MS,
    webhooks: webhookSettingsOf(v, distributed),
  };
}
