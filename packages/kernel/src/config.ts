/** SPEC §3 settings, parsed and validated once at start. A bad value stops the start with one line naming it. */
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
  reservationTtlMs: number;
  rateLimit: RateLimitSetting | null;
  logLevel: string;
  dbPoolSize: number;
  dbStatementTimeoutMs: number;
  dedupTtlSeconds: number;
  outboxRetentionMs: number;
  inboxRetentionMs: number;
  /** How long an Idempotency-Key (orders, restocks, top-ups) answers the same result again. */
  idempotencyKeyRetentionMs: number;
  maxDeliveryAttempts: number;
  otlpEndpoint?: string;
  /** Where the order service's console proxy reaches the other services when they run in other processes. */
  peerUrls: Partial<Record<'inventory' | 'payment', string>>;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw.trim()))
    throw new ConfigError(`${name}=${JSON.stringify(raw)}: expected an integer from ${min} to ${max}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  return n;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name}: expected a URL (${protocols.join(' or ')}), got something unparseable`);
  }
  if (!protocols.includes(u.protocol.replace(/:$/, '')))
    throw new ConfigError(`${name}: expected a ${protocols.join(' or ')} URL, got ${u.protocol.replace(/:$/, '')}://`);
  return raw;
}

export function parseRateLimit(raw: string | undefined): RateLimitSetting | null {
  const value = (raw ?? '600/minute').trim();
  if (value === 'off') return null;
  const m = /^(\d+)\/(second|minute|hour)$/.exec(value);
  if (!m || Number(m[1]) < 1)
    throw new ConfigError(`RATE_LIMIT=${JSON.stringify(raw)}: expected N/second, N/minute, N/hour (N ≥ 1) or off`);
  const windowMs = { second: 1000, minute: 60_000, hour: 3_600_000 }[m[2] as 'second' | 'minute' | 'hour'];
  return { max: Number(m[1]), windowMs };
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Reads the settings for the services this process will run.
 * Embedded ⇔ no database URL and no AMQP_URL for them; anything in between is contradictory.
 */
export function loadSettings(env: Env = process.env, services: readonly ServiceName[] = SERVICE_NAMES): Settings {
  const ports = {
    order: int(env, 'ORDER_PORT', 3000, 0, 65535),
    inventory: int(env, 'INVENTORY_PORT', 3001, 0, 65535),
    payment: int(env, 'PAYMENT_PORT', 3002, 0, 65535),
  };
  const databaseUrls: Partial<Record<ServiceName, string>> = {};
  for (const s of SERVICE_NAMES) {
    const u = url(env, `${s.toUpperCase()}_DATABASE_URL`, ['postgres', 'postgresql']);
    if (u) databaseUrls[s] = u;
  }
  const amqpUrl = url(env, 'AMQP_URL', ['amqp', 'amqps']);
  const redisUrl = url(env, 'REDIS_URL', ['redis', 'rediss']);
  const jwtJwksUrl = url(env, 'JWT_JWKS_URL', ['http', 'https']);
  const jwtSecret = env.JWT_SECRET || undefined;
  if (jwtSecret && jwtJwksUrl) throw new ConfigError('JWT_SECRET and JWT_JWKS_URL are both set: expected one of them');
  if (jwtSecret && Buffer.byteLength(jwtSecret) < 32)
    throw new ConfigError('JWT_SECRET: expected at least 32 bytes for HS256');
  const authRaw = env.AUTH_DISABLED;
  if (authRaw !== undefined && authRaw !== '' && authRaw !== 'true' && authRaw !== 'false')
    throw new ConfigError(`AUTH_DISABLED=${JSON.stringify(authRaw)}: expected true or false`);
  const authDisabled = authRaw === 'true';

  const withUrl = services.filter((s) => databaseUrls[s]);
  const distributed = withUrl.length > 0 || amqpUrl !== undefined;
  if (distributed) {
    if (!amqpUrl)
      throw new ConfigError(
        `${withUrl[0]?.toUpperCase()}_DATABASE_URL is set but AMQP_URL is not: a service with its own PostgreSQL talks through RabbitMQ`,
      );
    const missing = services.find((s) => !databaseUrls[s]);
    if (missing)
      throw new ConfigError(
        `AMQP_URL is set but ${missing.toUpperCase()}_DATABASE_URL is not: expected a PostgreSQL URL for every service started`,
      );
    if (!jwtSecret && !jwtJwksUrl && !authDisabled)
      throw new ConfigError(
        'no JWT_SECRET or JWT_JWKS_URL: a distributed start needs one (or AUTH_DISABLED=true, explicitly)',
      );
  }
  if (!distributed && redisUrl === undefined && env.REDIS_URL) throw new ConfigError('REDIS_URL: unparseable');

  const logLevel = env.LOG_LEVEL || 'info';
  if (!LEVELS.includes(logLevel))
    throw new ConfigError(`LOG_LEVEL=${JSON.stringify(logLevel)}: expected one of ${LEVELS.join(', ')}`);
  const host = env.HOST || '127.0.0.1';
  if (!/^[A-Za-z0-9.:_-]+$/.test(host))
    throw new ConfigError(`HOST=${JSON.stringify(host)}: expected an address or host name`);

  return {
    mode: distributed ? 'distributed' : 'embedded',
    host,
    ports,
    databaseUrls,
    amqpUrl,
    redisUrl,
    dataDir: env.DATA_DIR || './.data',
    jwtSecret,
    jwtJwksUrl,
    authDisabled,
    orderPartitions: int(env, 'ORDER_PARTITIONS', 16, 1, 1024),
    sagaTimeoutMs: int(env, 'SAGA_TIMEOUT_MS', 30_000, 100, 86_400_000),
    reservationTtlMs: int(env, 'RESERVATION_TTL_MS', 900_000, 1000, 30 * 86_400_000),
    rateLimit: parseRateLimit(env.RATE_LIMIT),
    logLevel,
    dbPoolSize: int(env, 'DB_POOL_SIZE', 8, 1, 200),
    dbStatementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
    dedupTtlSeconds: int(env, 'DEDUP_TTL_SECONDS', 7 * 86_400, 60, 90 * 86_400),
    outboxRetentionMs: int(env, 'OUTBOX_RETENTION_MS', 86_400_000, 0, 90 * 86_400_000),
    // At least an hour: a redelivery (broker, or the relay after a crash) must still find its inbox row.
    inboxRetentionMs: int(env, 'INBOX_RETENTION_MS', 7 * 86_400_000, 3_600_000, 365 * 86_400_000),
    // At least an hour: a client retrying after a timeout must still get the first answer back.
    idempotencyKeyRetentionMs: int(env, 'IDEMPOTENCY_KEY_RETENTION_MS', 86_400_000, 3_600_000, 365 * 86_400_000),
    maxDeliveryAttempts: int(env, 'MAX_DELIVERY_ATTEMPTS', 5, 1, 100),
    otlpEndpoint: url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http', 'https']),
    peerUrls: {
      inventory: url(env, 'INVENTORY_URL', ['http', 'https']),
      payment: url(env, 'PAYMENT_URL', ['http', 'https']),
    },
  };
}
