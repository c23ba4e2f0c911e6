import type { Migration } from '@commerce/kernel';

/** Payment's own tables (the kernel's outbox and inbox are applied before them). Runs on PostgreSQL 15 and PGlite. */
export const paymentMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts, payments, rollback markers, money movements',
    sql: `
CREATE TABLE IF NOT EXISTS accounts (
  customer_id text PRIMARY KEY,
  balance bigint NOT NULL CHECK (balance >= 0),
  currency text NOT NULL,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS payments (
  order_id uuid PRIMARY KEY,
  customer_id text NOT NULL,
  amount bigint NOT NULL CHECK (amount >= 0),
  refunded_amount bigint NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
  currency text NOT NULL,
  status text NOT NULL CHECK (status IN ('APPROVED', 'DECLINED', 'REFUNDED')),
  reason text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_customer ON payments (customer_id);
CREATE TABLE IF NOT EXISTS payment_rollback_markers (
  order_id uuid PRIMARY KEY,
  cause_event_id uuid,
  created_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS money_movements (
  id bigserial PRIMARY KEY,
  customer_id text NOT NULL,
  order_id uuid,
  kind text NOT NULL CHECK (kind IN ('deposit', 'set', 'deduction', 'refund')),
  delta bigint NOT NULL,
  currency text NOT NULL,
  balance_after bigint NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS money_movements_customer ON money_movements (customer_id, id);
CREATE INDEX IF NOT EXISTS money_movements_order ON money_movements (order_id) WHERE order_id IS NOT NULL;
`,
  },
  {
    version: 2,
    name: 'rollback markers move to the kernel',
    // The kernel keeps every participant's rollback markers (its migration 7, applied before this one):
    // payment's own rows move there.
    sql: `
INSERT INTO rollback_markers (order_id, cause_event_id, created_at)
SELECT order_id, cause_event_id, created_at FROM payment_rollback_markers
ON CONFLICT (order_id) DO NOTHING;
DROP TABLE IF EXISTS payment_rollback_markers;
`,
  },
  {
    version: 3,
    name: 'returns: refunds of returned units',
    // A return's refund is a `return_refund` movement tagged with its return (several returns of one order each
    // refund once); return_refunds keeps each return's answer so that a duplicate request answers the same.
    sql: `
ALTER TABLE money_movements DROP CONSTRAINT IF EXISTS money_movements_kind_check;
ALTER TABLE money_movements ADD CONSTRAINT money_movements_kind_check
  CHECK (kind IN ('deposit', 'set', 'deduction', 'refund', 'return_refund'));
ALTER TABLE money_movements ADD COLUMN IF NOT EXISTS return_id uuid;
CREATE TABLE IF NOT EXISTS return_refunds (
  order_id uuid NOT NULL,
  return_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('REFUNDED', 'FAILED')),
  amount bigint NOT NULL CHECK (amount >= 0),
  currency text NOT NULL,
  reason text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (order_id, return_id)
);
`,
  },
  {
    version: 4,
    name: 'payments held for a risk review; the risk rules read a customer history by time',
    sql: `
ALTER TABLE payments DROP CONSTRAINT IF EXISTS payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
  CHECK (status IN ('APPROVED', 'DECLINED', 'REFUNDED', 'HELD'));
CREATE INDEX IF NOT EXISTS payments_customer_created ON payments (customer_id, created_at);
`,
  },
];
