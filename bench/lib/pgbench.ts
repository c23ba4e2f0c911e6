/**
 * pgbench baselines: the SQL the services issue, without the services.
 *
 * The statements below are copied from the code that issues them (file and function named at each one) with
 * their parameters inlined, and grouped as the services send them: the services pipeline statements that do not
 * depend on each other (BEGIN with the first statement, a change's writes together), so the scripts put each such
 * group between \startpipeline and \endpipeline, which `compound` sends as one simple-protocol message (one round
 * trip per group, as in the services). Ids are made of pgbench random integers (digits are hex digits, so they
 * are valid UUIDs).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inventoryService } from '@commerce/inventory';
import { createLogger, openDatabase } from '@commerce/kernel';
import { orderService } from '@commerce/order';
import { paymentService } from '@commerce/payment';
import { freshDatabaseUrl } from '../../test/support/services.js';
import { type LatencySummary, round, summarize } from './stats.js';
import { BALANCE, CURRENCY, CUSTOMERS, customerId, PRODUCTS, priceOf, productId, STOCK } from './workload.js';

const run = promisify(execFile);

/** (A space after a JSON colon: pgbench takes `::name` for a cast and would not substitute it.) */
/** Per-transaction random values: customer, two distinct products, their prices, and the id digits. */
const VARIABLES = `\\set c random(0, ${CUSTOMERS - 1})
\\set p1 random(0, ${PRODUCTS - 1})
\\set p2 (:p1 + random(1, ${PRODUCTS - 1})) % ${PRODUCTS}
\\set pr1 ${priceOf(0)} + :p1
\\set pr2 ${priceOf(0)} + :p2
\\set total :pr1 + :pr2
\\set u1 10000000 + :client_id
\\set u2 random(1000, 9999)
\\set u3 random(100, 999)
\\set u5 random(100000000000, 999999999999)
`;
const OID = ':u1-:u2-4:u3-8000-:u5';
/** Event ids of one order: 1 ORDER_CREATED, 2 INVENTORY_RESERVED, 3 PAYMENT_APPROVED, 4 ORDER_CONFIRMED, 5 INVENTORY_COMMITTED, 6 ORDER_COMPLETED. */
const EID = (k: number) => `:u1-:u2-4:u3-${k}000-:u5`;
const CUST = `${customerId(0).replace(/0$/, '')}:c`;
const P1 = `${productId(0).replace(/0$/, '')}:p1`;
const P2 = `${productId(0).replace(/0$/, '')}:p2`;
const AT = '2026-01-01T00:00:00.000Z';
const ITEMS =
  `[{"productId":"${P1}","quantity":1,"unitPrice": PR1},{"productId":"${P2}","quantity":1,"unitPrice": PR2}]`
    .replace('PR1', ':pr1')
    .replace('PR2', ':pr2');
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

// packages/kernel/src/eventStore.ts readStream
const readStream = (
  from = 1,
) => `SELECT global_position, tx_id::text AS tx_id, stream_id, version, event_id::text AS event_id, event_type, data, metadata, occurred_at, recorded_at
  FROM events WHERE stream_id = 'order-${OID}' AND version >= ${from} ORDER BY version;`;

// packages/kernel/src/eventStore.ts appendToStream
function append(expected: number, events: { id: string; type: string; data: string; source: string }[]): string {
  const docs = `[${events
    .map(
      (e) =>
        `{"eventId":"${e.id}","eventType":"${e.type}","data":${e.data},"occurredAt":"${AT}","metadata":{"source":"${e.source}","schemaVersion":1,"causationId":null}}`,
    )
    .join(',')}]`;
  return `WITH cur AS (SELECT commerce_expect_version('order-${OID}', coalesce(max(version), 0)::int, ${expected}::int) AS v
                FROM events WHERE stream_id = 'order-${OID}')
  INSERT INTO events (stream_id, version, event_id, event_type, data, metadata, occurred_at)
  SELECT 'order-${OID}', ${expected}::int + e.ord::int, (e.doc->>'eventId')::uuid, e.doc->>'eventType', e.doc->'data',
         e.doc->'metadata', (e.doc->>'occurredAt')::timestamptz
    FROM cur, jsonb_array_elements(${lit(docs)}::jsonb) WITH ORDINALITY AS e(doc, ord)
  RETURNING global_position, tx_id::text AS tx_id, stream_id, version, event_id::text AS event_id, event_type, data, metadata, occurred_at, recorded_at;`;
}

// services/order/src/adapters/store.ts orderStore.projectOrder
const project = (status: string, inv: string, pay: string, version: number) =>
  `INSERT INTO orders (order_id, customer_id, status, currency, items, total_amount, inventory_status,
                       payment_status, reasons, version, created_at, updated_at)
   VALUES ('${OID}', '${CUST}', '${status}', '${CURRENCY}', ${lit(ITEMS)}::jsonb, :total, '${inv}', '${pay}', '[]'::jsonb, ${version}, now(), now())
   ON CONFLICT (order_id) DO UPDATE SET
     status = EXCLUDED.status, inventory_status = EXCLUDED.inventory_status,
     payment_status = EXCLUDED.payment_status, reasons = EXCLUDED.reasons, version = EXCLUDED.version,
     updated_at = EXCLUDED.updated_at
   WHERE orders.version < EXCLUDED.version;`;

// packages/kernel/src/outbox.ts enqueueOutbox
function outbox(
  exchange: string,
  type: string,
  id: string,
  source: string,
  cause: string | null,
  data: string,
): string {
  const envelope = `{"eventId":"${id}","eventType":"${type}","schemaVersion":1,"occurredAt":"${AT}","orderId":"${OID}","causationId":${cause ? `"${cause}"` : 'null'},"source":"${source}","data":${data}}`;
  const docs = `[{"exchange":"${exchange}","routingKey":"${type.toLowerCase().replaceAll('_', '.')}","envelope":${envelope},"traceparent":null}]`;
  return `WITH inserted AS (
   INSERT INTO outbox (message_id, exchange, routing_key, partition_key, envelope, traceparent)
   SELECT (x.m->'envelope'->>'eventId')::uuid, x.m->>'exchange', x.m->>'routingKey', x.m->'envelope'->>'orderId',
          x.m->'envelope', x.m->>'traceparent'
     FROM jsonb_array_elements(${lit(docs)}::jsonb) WITH ORDINALITY AS x(m, ord)
    ORDER BY x.ord
   ON CONFLICT (message_id) DO NOTHING
   RETURNING 1)
 SELECT pg_notify('outbox', 'enqueued') FROM (SELECT count(*) FROM inserted) AS done;`;
}

// packages/kernel/src/effect.ts commitChange's inbox record (every consumer: a duplicate fails the insert)
const inbox = (consumer: string, id: string) =>
  `INSERT INTO inbox (consumer, message_id) VALUES ('${consumer}', '${id}') ON CONFLICT (consumer, message_id) DO NOTHING RETURNING 1 AS inserted;`;
const strictInbox = (consumer: string, id: string) =>
  `INSERT INTO inbox (consumer, message_id) VALUES ('${consumer}', '${id}');`;

const CREATED_DATA = `{"customerId":"${CUST}","currency":"${CURRENCY}","items":${ITEMS},"totalAmount": :total}`;

/** services/order/src/application/placeOrder.ts placeOrder (with an Idempotency-Key, as the create scenario sends): a new
 * stream is not read, and the answer is built from the projected state, not read back. */
export const ORDER_CREATE_TX = `\\startpipeline
BEGIN;
INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, result, created_at)
       VALUES ('bench-admin', 'k-${OID}', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', '{"orderId":"${OID}"}'::jsonb, now());
${append(0, [{ id: EID(1), type: 'ORDER_CREATED', data: CREATED_DATA, source: 'order' }])}
${project('PENDING', 'PENDING', 'PENDING', 1)}
INSERT INTO saga_deadlines (order_id, kind, due_at) VALUES ('${OID}', 'saga', now() + interval '30 seconds')
     ON CONFLICT (order_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at;
${outbox('order_events', 'ORDER_CREATED', EID(1), 'order', null, CREATED_DATA)}
COMMIT;
\\endpipeline
`;

const LINES = `[{"productId":"${P1}","quantity":1},{"productId":"${P2}","quantity":1}]`;

/**
 * services/inventory/src/application/reserveStock.ts reserveStock (stockKind 'reservation') or commitStock.ts
 * commitStock, committed by the kernel's commitChange (effect.ts): the inbox row and the load (adapters/store.ts
 * inventoryStore.loadOrder, with the kernel's lockOrderForParticipant; a reservation locks its products there too)
 * together, then the writes (products in productId order) with the COMMIT.
 */
function inventoryTx(cause: string, reply: { id: string; type: string }, kind: 'reservation' | 'commit'): string {
  const [da, dr, ds] = kind === 'reservation' ? [-1, 1, 0] : [0, -1, 1];
  const update = (
    p: string,
  ) => `UPDATE products SET available = available + ${da}, reserved = reserved + ${dr}, sold = sold + ${ds},
          version = version + 1, updated_at = now()
    WHERE product_id = '${p}';`;
  const lockProducts = `SELECT product_id, name, unit_price, currency, available, reserved, sold FROM products
  WHERE product_id = ANY('{${P1},${P2}}'::text[]) ORDER BY product_id FOR UPDATE;`;
  return `\\startpipeline
BEGIN;
${strictInbox('inventory.order_events', cause)}
SELECT pg_advisory_xact_lock(hashtext('inventory:order:${OID}'));
SELECT 1 FROM rollback_markers WHERE order_id = '${OID}';
SELECT status, lines, expires_at FROM reservations WHERE order_id = '${OID}' FOR UPDATE;
${kind === 'reservation' ? lockProducts : ''}
\\endpipeline
\\startpipeline
${update(P1)}
${update(P2)}
INSERT INTO stock_movements (product_id, order_id, kind, delta_available, delta_reserved, delta_sold, at)
   SELECT c.product_id, '${OID}'::uuid, c.kind, c.da, c.dr, c.ds, now()
     FROM unnest('{${P1},${P2}}'::text[], '{${kind},${kind}}'::text[], '{${da},${da}}'::bigint[], '{${dr},${dr}}'::bigint[], '{${ds},${ds}}'::bigint[])
          WITH ORDINALITY AS c(product_id, kind, da, dr, ds, ord)
    ORDER BY c.ord;
INSERT INTO reservations (order_id, status, lines, expires_at, created_at, updated_at)
   VALUES ('${OID}', '${kind === 'reservation' ? 'RESERVED' : 'COMMITTED'}', ${lit(LINES)}::jsonb, now() + interval '15 minutes', now(), now())
   ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at;
${outbox('inventory_events', reply.type, reply.id, 'inventory', cause, kind === 'reservation' ? `{"items":${LINES}}` : '{}')}
COMMIT;
\\endpipeline
`;
}

/**
 * services/payment/src/application/chargePayment.ts chargePayment (charge, approved), committed by the kernel's
 * commitChange (effect.ts): the inbox row and the load (adapters/store.ts paymentStore.loadOrderPayment, with the
 * kernel's lockOrderForParticipant) together, then the writes (the balance change guarded as effect.ts issueWrite
 * wraps it) with the COMMIT.
 */
const PAYMENT_CHARGE_TX = `\\startpipeline
BEGIN;
${strictInbox('payment.order_events', EID(1))}
SELECT pg_advisory_xact_lock(hashtext('payment:order:${OID}'));
SELECT 1 FROM rollback_markers WHERE order_id = '${OID}';
SELECT customer_id, amount, refunded_amount, currency, status, reason, updated_at
  FROM payments WHERE order_id = '${OID}' FOR UPDATE;
SELECT customer_id, balance, currency FROM accounts WHERE customer_id = '${CUST}' FOR UPDATE;
\\endpipeline
\\startpipeline
WITH guarded AS (UPDATE accounts SET balance = balance + (0 - :total), version = version + 1, updated_at = now()
   WHERE customer_id = '${CUST}' AND balance + (0 - :total) >= 0 RETURNING 1)
 SELECT commerce_guard(count(*)::int, 'INSUFFICIENT_FUNDS') AS touched FROM guarded;
INSERT INTO money_movements (customer_id, order_id, kind, delta, currency, balance_after, at)
  SELECT customer_id, '${OID}'::uuid, 'deduction', 0 - :total, currency, balance, now() FROM accounts WHERE customer_id = '${CUST}';
INSERT INTO payments (order_id, customer_id, amount, refunded_amount, currency, status, reason, created_at, updated_at)
     VALUES ('${OID}', '${CUST}', :total, 0, '${CURRENCY}', 'APPROVED', NULL, now(), now())
     ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status, refunded_amount = EXCLUDED.refunded_amount,
       reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at;
${outbox('payment_events', 'PAYMENT_APPROVED', EID(3), 'payment', EID(1), `{"amount": :total,"currency":"${CURRENCY}"}`)}
COMMIT;
\\endpipeline
`;

/** services/order/src/application/orderSaga.ts handleSagaResult → orderChanges.ts changeOrder, committed by commitChange. */
function sagaTx(o: {
  before: number;
  result: { id: string; type: string; source: string; data: string };
  order?: { id: string; type: string };
  status: string;
  inv: string;
  pay: string;
  clearSagaDeadline?: boolean;
}): string {
  const events = [{ ...o.result }, ...(o.order ? [{ ...o.order, data: '{}', source: 'order' }] : [])];
  return `\\startpipeline
BEGIN;
${inbox('order.saga', o.result.id)}
${readStream()}
\\endpipeline
\\startpipeline
${append(o.before, events)}
${project(o.status, o.inv, o.pay, o.before + events.length)}
${o.clearSagaDeadline ? `DELETE FROM saga_deadlines WHERE order_id = '${OID}' AND kind = 'saga';` : ''}
${o.order ? outbox('order_events', o.order.type, o.order.id, 'order', o.result.id, '{}') : ''}
COMMIT;
\\endpipeline
`;
}

/** Every transaction one completed order needs, across the three services, in the order they run. */
export const FULL_ORDER_TXS = [
  ORDER_CREATE_TX,
  inventoryTx(EID(1), { id: EID(2), type: 'INVENTORY_RESERVED' }, 'reservation'),
  PAYMENT_CHARGE_TX,
  sagaTx({
    before: 1,
    result: { id: EID(2), type: 'INVENTORY_RESERVED', source: 'inventory', data: `{"items":${LINES}}` },
    status: 'PENDING',
    inv: 'RESERVED',
    pay: 'PENDING',
  }),
  sagaTx({
    before: 2,
    result: {
      id: EID(3),
      type: 'PAYMENT_APPROVED',
      source: 'payment',
      data: `{"amount": :total,"currency":"${CURRENCY}"}`,
    },
    order: { id: EID(4), type: 'ORDER_CONFIRMED' },
    status: 'CONFIRMED',
    inv: 'RESERVED',
    pay: 'APPROVED',
    clearSagaDeadline: true,
  }),
  inventoryTx(EID(4), { id: EID(5), type: 'INVENTORY_COMMITTED' }, 'commit'),
  sagaTx({
    before: 4,
    result: { id: EID(5), type: 'INVENTORY_COMMITTED', source: 'inventory', data: '{}' },
    order: { id: EID(6), type: 'ORDER_COMPLETED' },
    status: 'COMPLETED',
    inv: 'COMMITTED',
    pay: 'APPROVED',
  }),
];

/**
 * Turns each \\startpipeline … \\endpipeline group into one compound command (statements joined by `\\;`): in
 * the simple protocol pgbench sends it as one message and reads every answer: one round trip per group, as the
 * services' pipeline. (pgbench's own pipeline commands need the extended protocol, where it passes variables as
 * parameters, also inside the JSON literals here.)
 */
export function compound(script: string): string {
  const out: string[] = [];
  let group: string[] | undefined;
  for (const line of script.split('\n')) {
    if (line.trim() === '\\startpipeline') group = [];
    else if (line.trim() === '\\endpipeline') {
      const statements = (group ?? []).filter((l) => l.trim() !== '');
      const last = statements.findLastIndex((l) => /;\s*$/.test(l));
      out.push(...statements.map((l, i) => (i !== last ? l.replace(/;\s*$/, ' \\;') : l)));
      group = undefined;
    } else if (group) group.push(line);
    else out.push(line);
  }
  if (group) throw new Error('pgbench script: \\startpipeline without \\endpipeline');
  return out.join('\n');
}

export interface PgbenchResult {
  clients: number;
  seconds: number;
  /** Script executions per second (orders per second). */
  tps: number;
  /** Per script execution, ms. */
  latency: LatencySummary;
  failed: number;
}

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * One scratch database with the real schemas of all three services (migrated through openDatabase with each
 * module's migrations; the kernel's events/outbox/inbox are shared, as one script runs every service's SQL), and
 * the products and accounts of the workload.
 */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const scratch = freshDatabaseUrl('bench');
  const log = createLogger({ level: 'warn', name: 'bench' });
  const order = await openDatabase({ url: scratch.url, name: 'order', migrations: orderService.migrations, log });
  await order.close();
  const inv = await openDatabase({ url: scratch.url, name: 'inventory', migrations: inventoryService.migrations, log });
  await inv.query(
    `INSERT INTO products (product_id, name, unit_price, currency, available, created_at, updated_at)
     SELECT $1 || i, 'bench product ' || i, $2::bigint + i, $3, $4, now(), now() FROM generate_series(0, $5::int - 1) AS i`,
    [productId(0).replace(/0$/, ''), priceOf(0), CURRENCY, STOCK, PRODUCTS],
  );
  await inv.close();
  const pay = await openDatabase({ url: scratch.url, name: 'payment', migrations: paymentService.migrations, log });
  await pay.query(
    `INSERT INTO accounts (customer_id, balance, currency, created_at, updated_at)
     SELECT $1 || i, $2, $3, now(), now() FROM generate_series(0, $4::int - 1) AS i`,
    [customerId(0).replace(/0$/, ''), BALANCE, CURRENCY, CUSTOMERS],
  );
  await pay.query('ANALYZE');
  await pay.close();
  return scratch;
}

/** Runs pgbench with the given transactions as one script (one execution = one order). */
export async function pgbench(
  db: ScratchDatabase,
  transactions: readonly string[],
  clients: number,
  seconds: number,
): Promise<PgbenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'commerce-pgbench-'));
  try {
    const script = join(dir, 'script.sql');
    writeFileSync(script, VARIABLES + transactions.map(compound).join('\n'));
    const u = new URL(db.url);
    const { stdout } = await run(
      'pgbench',
      [
        '-n',
        '-M',
        'simple',
        '-h',
        u.hostname,
        '-p',
        u.port || '5432',
        '-U',
        decodeURIComponent(u.username) || 'postgres',
        '-c',
        String(clients),
        '-j',
        String(Math.min(clients, 2)),
        '-T',
        String(seconds),
        '-f',
        script,
        '-l',
        '--log-prefix',
        join(dir, 'log'),
        db.name,
      ],
      { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) } },
    );
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(stdout)?.[1] ?? NaN);
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    const lat: number[] = [];
    for (const f of readdirSync(dir).filter((n) => n.startsWith('log'))) {
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
        const us = Number(line.split(' ')[2]);
        if (line && Number.isFinite(us)) lat.push(us / 1000);
      }
    }
    return { clients, seconds, tps: round(tps, 1), latency: summarize(lat), failed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
