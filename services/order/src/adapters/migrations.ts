import type { Migration } from '@commerce/kernel';

/** The order service's own tables (the kernel's events/outbox/inbox are applied before these). */
export const orderMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'orders read model, idempotency keys, saga deadlines',
    sql: `
-- Read model of the order streams, written in the same transaction as every append.
CREATE TABLE IF NOT EXISTS orders (
  order_id uuid PRIMARY KEY,
  customer_id text NOT NULL,
  status text NOT NULL,
  currency text NOT NULL,
  items jsonb NOT NULL,
  total_amount bigint NOT NULL CHECK (total_amount >= 0),
  inventory_status text NOT NULL,
  payment_status text NOT NULL,
  reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
  version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
-- GET /orders: newest first, keyset paging on (created_at, order_id), by customer and/or status.
CREATE INDEX IF NOT EXISTS orders_by_created ON orders (created_at DESC, order_id DESC);
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (customer_id, created_at DESC, order_id DESC);
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status, created_at DESC, order_id DESC);
CREATE INDEX IF NOT EXISTS orders_by_customer_status ON orders (customer_id, status, created_at DESC, order_id DESC);

-- Idempotency-Key: the unique key decides between concurrent requests (never check-then-insert).
CREATE TABLE IF NOT EXISTS idempotency_keys (
  scope text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  order_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT idempotency_keys_unique UNIQUE (scope, idempotency_key)
);

-- Saga deadlines, stored with the state that needs them, claimed FOR UPDATE SKIP LOCKED.
CREATE TABLE IF NOT EXISTS saga_deadlines (
  order_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('saga', 'compensation')),
  due_at timestamptz NOT NULL,
  PRIMARY KEY (order_id, kind)
);
CREATE INDEX IF NOT EXISTS saga_deadlines_due ON saga_deadlines (due_at);
`,
  },
  {
    version: 2,
    name: 'idempotency keys in the kernel table',
    // The kernel's idempotency_keys (kernel migration 5, applied first) keeps every route's first answer in
    // `result`; a database made before it has this service's older table, whose order_id moves there. On a new
    // database the kernel's table is already in place: order_id is added, nothing is copied, and it is dropped.
    sql: `
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS result jsonb;
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS order_id uuid;
UPDATE idempotency_keys SET result = jsonb_build_object('orderId', order_id::text) WHERE result IS NULL;
ALTER TABLE idempotency_keys DROP COLUMN order_id;
ALTER TABLE idempotency_keys ALTER COLUMN result SET NOT NULL;
`,
  },
  {
    version: 3,
    name: 'projections on subscriptions: customer order history, sales analytics',
    // Written by subscriptions (adapters/projections.ts), not inline: they may lag the event store by a batch. A
    // rebuild copies these definitions (CREATE TABLE … LIKE) into its shadow schema.
    sql: `
CREATE TABLE IF NOT EXISTS customer_orders (
  order_id uuid PRIMARY KEY,
  customer_id text NOT NULL,
  currency text NOT NULL,
  total_amount bigint NOT NULL,
  status text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_orders_by_customer ON customer_orders (customer_id, created_at DESC, order_id DESC);
CREATE TABLE IF NOT EXISTS analytics_orders (
  order_id uuid PRIMARY KEY,
  currency text NOT NULL,
  total_amount bigint NOT NULL,
  items jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  final_status text
);
CREATE TABLE IF NOT EXISTS analytics_sales (
  period text NOT NULL CHECK (period IN ('hour', 'day')),
  bucket timestamptz NOT NULL,
  currency text NOT NULL,
  orders_placed bigint NOT NULL DEFAULT 0,
  amount_placed bigint NOT NULL DEFAULT 0,
  orders_completed bigint NOT NULL DEFAULT 0,
  revenue bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (period, bucket, currency)
);
CREATE TABLE IF NOT EXISTS analytics_outcomes (
  status text PRIMARY KEY,
  orders bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS analytics_latency (
  hour timestamptz NOT NULL,
  le_ms integer NOT NULL,
  orders bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (hour, le_ms)
);
CREATE TABLE IF NOT EXISTS analytics_products (
  product_id text NOT NULL,
  currency text NOT NULL,
  units bigint NOT NULL DEFAULT 0,
  revenue bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (product_id, currency)
);
CREATE TABLE IF NOT EXISTS analytics_compensations (
  kind text NOT NULL CHECK (kind IN ('started', 'reason', 'failed')),
  reason text NOT NULL,
  orders bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, reason)
);
`,
  },
  {
    version: 4,
    name: 'archived orders',
    // Set when `commerce archive` moved the order's stream to the kernel's events_archive (the row stays: reads of the
    // order answer as before).
    sql: `
ALTER TABLE orders ADD COLUMN IF NOT EXISTS archived_at timestamptz;
CREATE INDEX IF NOT EXISTS orders_to_archive ON orders (updated_at) WHERE archived_at IS NULL;
`,
  },
  {
    version: 5,
    name: 'returns of completed orders',
    // The read model row carries the order's returns (issue 21): GET /orders/{id}/returns and the return fields of
    // GET /orders/{id} read them, the audit checks them against inventory's restocks and payment's refunds.
    sql: `ALTER TABLE orders ADD COLUMN IF NOT EXISTS returns jsonb NOT NULL DEFAULT '[]'::jsonb;`,
  },
  {
    version: 6,
    name: 'webhooks',
    // docs/webhooks.md. One delivery per endpoint × event (written by the `webhooks` subscription with its checkpoint);
    // a later delivery of the same order and endpoint waits while an earlier one is pending (order_version).
    sql: `
CREATE TABLE IF NOT EXISTS webhook_endpoints (
  endpoint_id uuid PRIMARY KEY,
  url text NOT NULL,
  event_types text[] NOT NULL,
  customer_id text,
  description text NOT NULL DEFAULT '',
  secret_enc text NOT NULL,
  previous_secret_enc text,
  previous_secret_until timestamptz,
  enabled boolean NOT NULL DEFAULT true,
  disabled_reason text,
  disabled_at timestamptz,
  failing_since timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  delivery_id bigserial PRIMARY KEY,
  endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (endpoint_id) ON DELETE CASCADE,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  order_id uuid,
  order_version integer,
  body text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  lease_owner text,
  lease_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL,
  finished_at timestamptz,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_order ON webhook_deliveries (endpoint_id, order_id, order_version)
  WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_order ON webhook_deliveries (order_id);
CREATE TABLE IF NOT EXISTS webhook_attempts (
  attempt_id bigserial PRIMARY KEY,
  delivery_id bigint NOT NULL REFERENCES webhook_deliveries (delivery_id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  attempted_at timestamptz NOT NULL,
  status_code integer,
  latency_ms integer NOT NULL,
  response_body text,
  error text
);
CREATE INDEX IF NOT EXISTS webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
CREATE INDEX IF NOT EXISTS webhook_attempts_time ON webhook_attempts (attempted_at);
`,
  },
];
