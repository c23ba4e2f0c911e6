import type { Migration } from './db/migrate.js';

/**
 * The kernel's own tables, applied (component `kernel`) before each service's migrations.
 * The SQL runs unchanged on PostgreSQL 15 and on PGlite.
 */
export const KERNEL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'event store',
    sql: `
CREATE TABLE IF NOT EXISTS events (
  global_position bigserial PRIMARY KEY,
  stream_id text NOT NULL,
  version integer NOT NULL CHECK (version > 0),
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  -- Commit-order guard: the id of the writing transaction. readAll only returns rows of
  -- transactions older than every transaction still running (see eventStore.ts).
  tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  CONSTRAINT events_event_id_unique UNIQUE (event_id),
  CONSTRAINT events_stream_version_unique UNIQUE (stream_id, version)
);
CREATE INDEX IF NOT EXISTS events_commit_order ON events (tx_id, global_position);
`,
  },
  {
    version: 2,
    name: 'outbox',
    sql: `
CREATE TABLE IF NOT EXISTS outbox (
  id bigserial PRIMARY KEY,
  message_id uuid NOT NULL,
  exchange text NOT NULL,
  routing_key text NOT NULL,
  partition_key text NOT NULL,
  envelope jsonb NOT NULL,
  traceparent text,
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  CONSTRAINT outbox_message_id_unique UNIQUE (message_id)
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;
`,
  },
  {
    version: 3,
    name: 'inbox',
    sql: `
CREATE TABLE IF NOT EXISTS inbox (
  consumer text NOT NULL,
  message_id text NOT NULL,
  handled_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, message_id)
);
CREATE INDEX IF NOT EXISTS inbox_handled_at ON inbox (handled_at);
`,
  },
  {
    version: 4,
    name: 'stream version check',
    // The append checks the expected version in the statement itself and fails there (an error, not "no row"),
    // so that a transaction may send its COMMIT right behind its writes: a failed check aborts it. (The body stays
    // on one line: migrations are split at semicolons that end a line.)
    sql: `
CREATE OR REPLACE FUNCTION commerce_expect_version(stream text, actual integer, expected integer) RETURNS integer
LANGUAGE plpgsql AS $fn$ BEGIN IF actual <> expected THEN RAISE EXCEPTION 'stream %: expected version % but it is at %', stream, expected, actual USING ERRCODE = 'CM409', DETAIL = actual::text; END IF; RETURN actual; END $fn$;
`,
  },
  {
    version: 5,
    name: 'idempotency keys',
    // One table per service database for every route that takes an Idempotency-Key (idempotencyKeys.ts). The order
    // service had its own before (with an order_id column); its migration 2 moves that into `result`.
    sql: `
CREATE TABLE IF NOT EXISTS idempotency_keys (
  scope text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  result jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT idempotency_keys_unique UNIQUE (scope, idempotency_key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at);
`,
  },
  {
    version: 6,
    name: 'guarded writes',
    // A guarded write of an effect (effect.ts) that touched no row raises here, inside its own statement, so that a
    // COMMIT already sent behind it finds the transaction aborted: nothing of the effect commits.
    sql: `
CREATE OR REPLACE FUNCTION commerce_guard(touched integer, refusal text) RETURNS integer
LANGUAGE plpgsql AS $fn$ BEGIN IF touched = 0 THEN RAISE EXCEPTION 'guarded write refused: %', refusal USING ERRCODE = 'CM422', DETAIL = refusal; END IF; RETURN touched; END $fn$;
`,
  },
  {
    version: 7,
    name: 'rollback markers',
    // A saga participant's memory that a rollback of an order came before its request (participant.ts). Inventory and
    // payment had a table each; their migrations move the rows here.
    sql: `
CREATE TABLE IF NOT EXISTS rollback_markers (
  order_id uuid PRIMARY KEY,
  cause_event_id uuid,
  created_at timestamptz NOT NULL
);
`,
  },
  {
    version: 8,
    name: 'subscriptions',
    // Checkpointed subscriptions (subscription.ts): one row per named subscription holds its position in readAll
    // order, its lease (one instance runs it at a time) and the event it is failing on; events a subscription gave
    // up on are parked with the reason. A statement-level trigger wakes the subscriptions at the commit of every
    // append (NOTIFY is delivered at commit, dropped on rollback; same-payload notifications of one transaction fold).
    sql: `
CREATE TABLE IF NOT EXISTS subscription_checkpoints (
  name text PRIMARY KEY,
  tx_id xid8 NOT NULL DEFAULT '0'::xid8,
  global_position bigint NOT NULL DEFAULT 0,
  events_handled bigint NOT NULL DEFAULT 0,
  owner text,
  lease_expires_at timestamptz NOT NULL DEFAULT now(),
  state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'stopped')),
  failing_event_id uuid,
  failing_attempts integer NOT NULL DEFAULT 0,
  last_error text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS subscription_parked (
  subscription text NOT NULL,
  event_id uuid NOT NULL,
  stream_id text NOT NULL,
  version integer NOT NULL,
  event_type text NOT NULL,
  global_position bigint NOT NULL,
  tx_id xid8 NOT NULL,
  attempts integer NOT NULL,
  reason text NOT NULL,
  parked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscription, event_id)
);
CREATE OR REPLACE FUNCTION commerce_events_notify() RETURNS trigger
LANGUAGE plpgsql AS $fn$ BEGIN PERFORM pg_notify('commerce_events', 'appended'); RETURN NULL; END $fn$;
CREATE OR REPLACE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION commerce_events_notify();
`,
  },
  {
    version: 9,
    name: 'event archive',
    // Streams moved out of the hot table (an order service's `commerce archive`): same rows, same positions, so that
    // readAll (subscriptions, rebuilds) merges them back in commit order; readArchivedStream reads one stream.
    sql: `
CREATE TABLE IF NOT EXISTS events_archive (
  global_position bigint PRIMARY KEY,
  stream_id text NOT NULL,
  version integer NOT NULL,
  event_id uuid NOT NULL,
  event_type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  occurred_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  tx_id xid8 NOT NULL,
  archived_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_archive_event_id_unique UNIQUE (event_id),
  CONSTRAINT events_archive_stream_version_unique UNIQUE (stream_id, version)
);
CREATE INDEX IF NOT EXISTS events_archive_commit_order ON events_archive (tx_id, global_position);
`,
  },
];
