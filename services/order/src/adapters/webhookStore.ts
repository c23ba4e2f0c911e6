/** The webhook tables (migration 5): endpoints, deliveries (one per endpoint × event) and the attempt log. */
import type { Queryable } from '@commerce/kernel';

export interface EndpointRow {
  endpointId: string;
  url: string;
  eventTypes: string[];
  customerId: string | null;
  description: string;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
  failingSince: string | null;
  previousSecretUntil: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface EndpointSecrets {
  secretEnc: string;
  previousSecretEnc: string | null;
  previousSecretUntil: Date | null;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

const ENDPOINT_COLUMNS = `endpoint_id::text AS endpoint_id, url, event_types, customer_id, description, enabled,
  disabled_reason, disabled_at, failing_since, previous_secret_until, created_at, updated_at`;

type RawEndpoint = {
  endpoint_id: string;
  url: string;
  event_types: string[];
  customer_id: string | null;
  description: string;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: Date | string | null;
  failing_since: Date | string | null;
  previous_secret_until: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
};

const endpointOf = (r: RawEndpoint): EndpointRow => ({
  endpointId: r.endpoint_id,
  url: r.url,
  eventTypes: r.event_types,
  customerId: r.customer_id,
  description: r.description,
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  disabledAt: iso(r.disabled_at),
  failingSince: iso(r.failing_since),
  previousSecretUntil: iso(r.previous_secret_until),
  createdAt: iso(r.created_at) as string,
  updatedAt: iso(r.updated_at) as string,
});

export async function insertEndpoint(
  db: Queryable,
  e: {
    endpointId: string;
    url: string;
    eventTypes: string[];
    customerId: string | null;
    description: string;
    secretEnc: string;
    now: Date;
  },
): Promise<EndpointRow> {
  const r = await db.query<RawEndpoint>(
    `INSERT INTO webhook_endpoints (endpoint_id, url, event_types, customer_id, description, secret_enc, created_at, updated_at)
     VALUES ($1, $2, $3::text[], $4, $5, $6, $7, $7) RETURNING ${ENDPOINT_COLUMNS}`,
    [e.endpointId, e.url, e.eventTypes, e.customerId, e.description, e.secretEnc, e.now],
  );
  return endpointOf(r.rows[0] as RawEndpoint);
}

export async function listEndpoints(db: Queryable): Promise<EndpointRow[]> {
  const r = await db.query<RawEndpoint>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, endpoint_id`,
  );
  return r.rows.map(endpointOf);
}

export async function findEndpoint(db: Queryable, endpointId: string): Promise<EndpointRow | undefined> {
  const r = await db.query<RawEndpoint>(`SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE endpoint_id = $1`, [
    endpointId,
  ]);
  return r.rows[0] ? endpointOf(r.rows[0]) : undefined;
}

export async function endpointSecrets(db: Queryable, endpointId: string): Promise<EndpointSecrets | undefined> {
  const r = await db.query<{
    secret_enc: string;
    previous_secret_enc: string | null;
    previous_secret_until: Date | string | null;
  }>(`SELECT secret_enc, previous_secret_enc, previous_secret_until FROM webhook_endpoints WHERE endpoint_id = $1`, [
    endpointId,
  ]);
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    secretEnc: row.secret_enc,
    previousSecretEnc: row.previous_secret_enc,
    previousSecretUntil: row.previous_secret_until ? new Date(row.previous_secret_until) : null,
  };
}

/** Enables (clearing the failure run) or disables an endpoint; false when there is none. */
export async function setEndpointEnabled(
  db: Queryable,
  endpointId: string,
  enabled: boolean,
  reason: string | null,
  now: Date,
): Promise<boolean> {
  const r = await db.query(
    `UPDATE webhook_endpoints SET enabled = $2, disabled_reason = $3, disabled_at = CASE WHEN $2 THEN NULL ELSE $4::timestamptz END,
            failing_since = CASE WHEN $2 THEN NULL ELSE failing_since END, updated_at = $4
      WHERE endpoint_id = $1`,
    [endpointId, enabled, enabled ? null : reason, now],
  );
  return r.rowCount > 0;
}

export async function deleteEndpoint(db: Queryable, endpointId: string): Promise<boolean> {
  return (await db.query(`DELETE FROM webhook_endpoints WHERE endpoint_id = $1`, [endpointId])).rowCount > 0;
}

/** The new secret replaces the current one, which stays valid (sent alongside) until `previousUntil`. */
export async function replaceSecret(
  db: Queryable,
  endpointId: string,
  secretEnc: string,
  previousUntil: Date,
  now: Date,
): Promise<boolean> {
  const r = await db.query(
    `UPDATE webhook_endpoints SET previous_secret_enc = secret_enc, previous_secret_until = $3, secret_enc = $2, updated_at = $4
      WHERE endpoint_id = $1`,
    [endpointId, secretEnc, previousUntil, now],
  );
  return r.rowCount > 0;
}

/** Endpoints that receive new events: the enabled ones, with their filters. */
export async function fanOutEndpoints(
  tx: Queryable,
): Promise<{ endpointId: string; eventTypes: string[]; customerId: string | null; createdAt: Date }[]> {
  const r = await tx.query<{
    endpoint_id: string;
    event_types: string[];
    customer_id: string | null;
    created_at: Date | string;
  }>(
    `SELECT endpoint_id::text AS endpoint_id, event_types, customer_id, created_at FROM webhook_endpoints WHERE enabled`,
  );
  return r.rows.map((e) => ({
    endpointId: e.endpoint_id,
    eventTypes: e.event_types,
    customerId: e.customer_id,
    createdAt: new Date(e.created_at),
  }));
}

export async function customersOfOrders(tx: Queryable, orderIds: readonly string[]): Promise<Map<string, string>> {
  if (orderIds.length === 0) return new Map();
  const r = await tx.query<{ order_id: string; customer_id: string }>(
    `SELECT order_id::text AS order_id, customer_id FROM orders WHERE order_id = ANY($1::uuid[])`,
    [orderIds],
  );
  return new Map(r.rows.map((o) => [o.order_id, o.customer_id]));
}

export interface NewDelivery {
  endpointId: string;
  eventId: string;
  eventType: string;
  orderId: string | null;
  orderVersion: number | null;
  body: string;
}

/** One row per endpoint × event; a second write of the same pair (a re-run batch) is a no-op. */
export async function insertDeliveries(tx: Queryable, rows: readonly NewDelivery[], now: Date): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, order_id, order_version, body, status, next_attempt_at, created_at)
     SELECT x."endpointId", x."eventId", x."eventType", x."orderId", x."orderVersion", x.body, 'pending', $2, $2
       FROM jsonb_to_recordset($1::jsonb) AS x("endpointId" uuid, "eventId" uuid, "eventType" text, "orderId" uuid,
                                               "orderVersion" integer, body text)
     ON CONFLICT (endpoint_id, event_id) DO NOTHING`,
    [JSON.stringify(rows), now],
  );
}
