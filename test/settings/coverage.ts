/**
 * Every setting of the README table → the tests that start the platform (or, for COMMERCE_TOKEN, the CLI) with a
 * non-default value of it and observe the effect. settingsDoc.unit.test.ts fails when a setting of the schema is
 * missing here, or when a test named here is not in its file any more.
 */
import type { SettingName } from '@commerce/kernel';

export interface SettingTest {
  /** From the repository root. */
  file: string;
  /** The test's name (`it`), exactly as written in the file. */
  test: string;
}

const PROCESS = 'test/settings/process.e2e.test.ts';
const EMBEDDED = 'test/settings/embedded.e2e.test.ts';
const DISTRIBUTED = 'test/settings/distributed.e2e.test.ts';
const SAGA = 'test/e2e/saga.e2e.test.ts';
const START = 'test/e2e/start.e2e.test.ts';
const RISK = 'test/e2e/risk.e2e.test.ts';

/** Every rule threshold is set (non-default) in the distributed risk test, and each rule's outcome observed. */
const riskRules: SettingTest[] = [
  {
    file: RISK,
    test: 'each rule ends the order as the rules say; approve completes, reject and timeout release',
  },
];
const riskScores: SettingTest[] = [
  {
    file: RISK,
    test: 'RISK_REVIEW_SCORE=30 and RISK_REJECT_SCORE=60: the quantity rule alone holds an order, the amount rule alone rejects one',
  },
];

const ports: SettingTest = {
  file: PROCESS,
  test: 'ORDER_PORT, INVENTORY_PORT, PAYMENT_PORT: each service answers on its port',
};
const databases: SettingTest[] = [
  {
    file: DISTRIBUTED,
    test: "ORDER_/INVENTORY_/PAYMENT_DATABASE_URL: each service's database is created at start and holds its own data",
  },
  // Three processes, each given its own database URL (startDistributed), as deployed.
  { file: START, test: 'completes an order across three processes and keeps it across restarts' },
];
const otel: SettingTest = {
  file: PROCESS,
  test: 'OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, _PROTOCOL, OTEL_SERVICE_NAME: spans go to <endpoint>/v1/traces as OTLP JSON, with the headers and the service name',
};
const WEBHOOKS = 'test/e2e/webhooks.e2e.test.ts';
const WEBHOOKS_KILL = 'test/e2e/webhooks.kill.e2e.test.ts';
const webhookFlaky: SettingTest = {
  file: WEBHOOKS,
  test: 'a receiver answering 500 twice then 200: the third attempt succeeds, the log shows three attempts and their delays',
};
const webhookLoopback: SettingTest = {
  file: WEBHOOKS,
  test: '50 orders with mixed outcomes: every matching event arrives once per endpoint, in order, and verifies',
};
const peers: SettingTest = {
  file: EMBEDDED,
  test: 'INVENTORY_URL and PAYMENT_URL: the console proxy reaches the services of other processes there',
};

const emf: SettingTest = {
  file: 'test/e2e/logs.e2e.test.ts',
  test: 'CLOUDWATCH_EMF_INTERVAL_MS, CLOUDWATCH_METRICS_NAMESPACE: EMF lines with the outbox lag of every service',
};

export const SETTING_TESTS: Record<SettingName, SettingTest[]> = {
  ORDER_PORT: [ports],
  INVENTORY_PORT: [ports],
  PAYMENT_PORT: [ports],
  HOST: [{ file: PROCESS, test: 'HOST: the services listen on that address only, not on the default 127.0.0.1' }],
  ORDER_DATABASE_URL: databases,
  INVENTORY_DATABASE_URL: databases,
  PAYMENT_DATABASE_URL: databases,
  AMQP_URL: [
    { file: DISTRIBUTED, test: 'AMQP_URL: the services talk through RabbitMQ, in that vhost' },
    {
      file: SAGA,
      test: 'RESERVED + APPROVED → CONFIRMED → COMPLETED: stock sold, total paid once; cancelling it is 409',
    },
  ],
  REDIS_URL: [
    {
      file: DISTRIBUTED,
      test: 'REDIS_URL, DEDUP_TTL_SECONDS=120: a handled message is remembered in Redis for two minutes',
    },
    // Rate limits shared through Redis (two servers, one count).
    {
      file: 'packages/kernel/src/http/rate-limit.int.test.ts',
      test: 'holds one limit per client across two instances: 10/minute, 6 + 6 requests → 10 pass, 2 get 429',
    },
  ],
  DATA_DIR: [
    {
      file: PROCESS,
      test: 'DATA_DIR: the PGlite databases and the generated JWT secret live there; the demo tokens are signed with it',
    },
    {
      file: EMBEDDED,
      test: 'DATA_DIR: one PGlite database per service lives there, and the restart finds the order placed before',
    },
  ],
  JWT_SECRET: [
    {
      file: DISTRIBUTED,
      test: 'JWT_SECRET: tokens signed with it are accepted, tokens signed with another secret refused',
    },
  ],
  JWT_JWKS_URL: [{ file: EMBEDDED, test: 'JWT_JWKS_URL: bearer tokens are verified with the key set served there' }],
  AUTH_DISABLED: [{ file: EMBEDDED, test: 'AUTH_DISABLED=true: every caller is an admin, no token needed' }],
  ORDER_PARTITIONS: [{ file: DISTRIBUTED, test: 'ORDER_PARTITIONS=4: four partition leases and four saga queues' }],
  SAGA_TIMEOUT_MS: [
    {
      file: EMBEDDED,
      test: 'SAGA_TIMEOUT_MS=3000 cancels an order nobody answers; COMPENSATION_TIMEOUT_MS=200 then fails its compensation',
    },
    {
      file: SAGA,
      test: 'saga timeout with inventory silent → CANCELLED (SAGA_TIMEOUT), refund, late reservation released → COMPENSATED',
    },
  ],
  COMPENSATION_TIMEOUT_MS: [
    {
      file: EMBEDDED,
      test: 'SAGA_TIMEOUT_MS=3000 cancels an order nobody answers; COMPENSATION_TIMEOUT_MS=200 then fails its compensation',
    },
  ],
  RESERVATION_TTL_MS: [
    { file: EMBEDDED, test: 'RESERVATION_TTL_MS=1000: a reservation that nobody confirms is released after a second' },
  ],
  RATE_LIMIT: [
    { file: PROCESS, test: 'RATE_LIMIT=2/second: a third request of one client within the second is refused with 429' },
  ],
  LOG_FORMAT: [
    {
      file: 'test/e2e/logs.e2e.test.ts',
      test: 'LOG_FORMAT=pretty: readable lines with level names, the start-up summary kept whole and apart',
    },
  ],
  CLOUDWATCH_EMF_INTERVAL_MS: [emf],
  CLOUDWATCH_METRICS_NAMESPACE: [emf],
  LOG_LEVEL: [{ file: PROCESS, test: 'LOG_LEVEL=debug: debug lines are written (the default, info, writes none)' }],
  DB_POOL_SIZE: [{ file: DISTRIBUTED, test: 'DB_POOL_SIZE=2: a service runs at most two statements at once' }],
  DB_STATEMENT_TIMEOUT_MS: [
    { file: DISTRIBUTED, test: 'DB_STATEMENT_TIMEOUT_MS=500: a longer statement is cancelled' },
  ],
  DEDUP_TTL_SECONDS: [
    {
      file: DISTRIBUTED,
      test: 'REDIS_URL, DEDUP_TTL_SECONDS=120: a handled message is remembered in Redis for two minutes',
    },
  ],
  OUTBOX_RETENTION_MS: [
    { file: EMBEDDED, test: 'OUTBOX_RETENTION_MS=1000: the published rows of the first start are deleted' },
  ],
  OUTBOX_DISPATCH: [
    {
      file: DISTRIBUTED,
      test: 'OUTBOX_DISPATCH=relay: nothing is published at commit; the relays, woken by NOTIFY, publish every row',
    },
  ],
  OUTBOX_RELAY_GRACE_MS: [
    {
      file: EMBEDDED,
      test: 'OUTBOX_RELAY_GRACE_MS=1500: a row its process never dispatched is published by the relay 1.5 s after its commit',
    },
  ],
  QUEUE_TYPE: [
    { file: DISTRIBUTED, test: "QUEUE_TYPE=classic: the consumers' queues, partitions included, are classic queues" },
  ],
  INBOX_RETENTION_MS: [
    { file: EMBEDDED, test: 'INBOX_RETENTION_MS=1 h: inbox rows older than an hour are deleted, younger ones kept' },
  ],
  IDEMPOTENCY_KEY_RETENTION_MS: [
    {
      file: EMBEDDED,
      test: 'IDEMPOTENCY_KEY_RETENTION_MS=1 h: a key older than an hour is pruned, and the same key places a new order',
    },
  ],
  MAX_DELIVERY_ATTEMPTS: [
    {
      file: EMBEDDED,
      test: 'MAX_DELIVERY_ATTEMPTS=2: a message its handler keeps failing on is dead-lettered after two attempts',
    },
  ],
  OTEL_EXPORTER_OTLP_ENDPOINT: [otel],
  OTEL_EXPORTER_OTLP_HEADERS: [otel],
  OTEL_EXPORTER_OTLP_PROTOCOL: [otel],
  OTEL_SERVICE_NAME: [otel],
  INVENTORY_URL: [peers],
  PAYMENT_URL: [peers],
  SUBSCRIPTION_LEASE_MS: [
    {
      file: EMBEDDED,
      test: 'SUBSCRIPTION_LEASE_MS=3000: the projections hold 3-second leases, and the order summary follows the orders',
    },
  ],
  WEBHOOK_RETRY_SCHEDULE_MS: [webhookFlaky],
  WEBHOOK_RESPONSE_BODY_LIMIT: [webhookFlaky],
  WEBHOOK_TIMEOUT_MS: [
    {
      file: WEBHOOKS,
      test: 'WEBHOOK_TIMEOUT_MS: a receiver that does not answer within it is logged as timed out and retried',
    },
  ],
  WEBHOOK_ALLOW_INSECURE: [webhookLoopback],
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: [
    webhookLoopback,
    {
      file: WEBHOOKS,
      test: 'refuses loopback, metadata and a name resolving to a private address, each with a 400 naming the rule',
    },
  ],
  WEBHOOK_SECRET_KEY: [
    { file: WEBHOOKS_KILL, test: 'a SIGKILL with deliveries pending loses none; duplicates carry the same webhook-id' },
  ],
  WEBHOOK_DISABLE_AFTER_MS: [
    {
      file: WEBHOOKS,
      test: 'WEBHOOK_DISABLE_AFTER_MS: an endpoint failing that long is disabled; a 410 Gone disables at once',
    },
  ],
  WEBHOOK_LOG_RETENTION_MS: [
    {
      file: WEBHOOKS_KILL,
      test: 'WEBHOOK_LOG_RETENTION_MS: finished deliveries and their attempts older than it are deleted',
    },
  ],
  COMMERCE_TOKEN: [
    {
      file: PROCESS,
      test: 'COMMERCE_TOKEN: the CLI sends it (with no JWT_SECRET and no secret under its DATA_DIR to sign one)',
    },
  ],
  RISK_AMOUNT_LIMIT: riskRules,
  RISK_FIRST_ORDER_LIMIT: riskRules,
  RISK_VELOCITY_WINDOW_MS: riskRules,
  RISK_VELOCITY_MAX_ORDERS: riskRules,
  RISK_VELOCITY_MAX_AMOUNT: riskRules,
  RISK_MAX_PRODUCT_QUANTITY: [...riskRules, ...riskScores],
  RISK_REVIEW_SCORE: riskScores,
  RISK_REJECT_SCORE: riskScores,
  REVIEW_TIMEOUT_MS: riskRules,
};
