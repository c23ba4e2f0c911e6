import type { Migration } from '@commerce/kernel';

/** Inventory's own tables (the kernel's outbox and inbox are applied before them). Runs on PostgreSQL 15 and PGlite. */
export const inventoryMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'products, reservations, rollback markers, stock movements',
    sql: `
CREATE TABLE IF NOT EXISTS products (
  product_id text PRIMARY KEY,
  name text NOT NULL,
  unit_price bigint NOT NULL CHECK (unit_price >= 0),
  currency text NOT NULL,
  available bigint NOT NULL CHECK (available >= 0),
  reserved bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  sold bigint NOT NULL DEFAULT 0 CHECK (sold >= 0),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS reservations (
  order_id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('RESERVED', 'COMMITTED', 'RELEASED', 'EXPIRED', 'UNDONE_BEFORE_REQUEST')),
  lines jsonb NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_expiring ON reservations (expires_at) WHERE status = 'RESERVED';
CREATE TABLE IF NOT EXISTS inventory_rollback_markers (
  order_id uuid PRIMARY KEY,
  cause_event_id uuid,
  created_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS stock_movements (
  id bigserial PRIMARY KEY,
  product_id text NOT NULL,
  order_id uuid,
  kind text NOT NULL CHECK (kind IN ('restock', 'set', 'reservation', 'commit', 'release', 'expiry')),
  delta_available bigint NOT NULL,
  delta_reserved bigint NOT NULL,
  delta_sold bigint NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS stock_movements_product ON stock_movements (product_id, id);
CREATE INDEX IF NOT EXISTS stock_movements_order ON stock_movements (order_id) WHERE order_id IS NOT NULL;
`,
  },
  {
    version: 2,
    name: "rollback markers move to the kernel's rollback_markers",
    // The kernel's table (applied before this) is where the participant scope reads and writes them now.
    sql: `
INSERT INTO rollback_markers (order_id, cause_event_id, created_at)
SELECT order_id, cause_event_id, created_at FROM inventory_rollback_markers
ON CONFLICT (order_id) DO NOTHING;
DROP TABLE inventory_rollback_markers;
`,
  },
  {
    version: 3,
    name: 'returns: restocks of returned units',
    // A return's restock is a `return` movement tagged with its return (several returns of one order restock the same
    // product once each); return_restocks keeps each return's answer so that a duplicate request answers the same.
    sql: `
ALTER TABLE stock_movements DROP CONSTRAINT IF EXISTS stock_movements_kind_check;
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_kind_check
  CHECK (kind IN ('restock', 'set', 'reservation', 'commit', 'release', 'expiry', 'return'));
ALTER TABLE stock_movements ADD COLUMN IF NOT EXISTS return_id uuid;
CREATE TABLE IF NOT EXISTS return_restocks (
  order_id uuid NOT NULL,
  return_id uuid NOT NULL,
  status text NOT NULL CHECK (status IN ('RESTOCKED', 'FAILED')),
  items jsonb NOT NULL,
  reason text,
  product_ids text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL,
  PRIMARY KEY (order_id, return_id)
);
`,
  },
];
