/** The projection of the subscription tests: one row per event given to the handler, in the order given. */
import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../src/db/port.js';
import { appendToStream, type StoredEvent } from '../src/eventStore.js';

export const APPLIED_TABLE =
  'CREATE TABLE IF NOT EXISTS applied (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, stream_id text NOT NULL, version integer NOT NULL)';

export async function recordApplied(events: readonly StoredEvent[], tx: Queryable): Promise<void> {
  await tx.query(
    `INSERT INTO applied (event_id, stream_id, version)
     SELECT (e->>'id')::uuid, e->>'stream', (e->>'version')::int
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(e, ord) ORDER BY ord`,
    [JSON.stringify(events.map((e) => ({ id: e.eventId, stream: e.streamId, version: e.version })))],
  );
}

/** Every event exactly once, and each stream's events in version order. */
export async function appliedCheck(
  db: Queryable,
): Promise<{ rows: number; distinct: number; missing: number; outOfOrder: string[] }> {
  const counts = await db.query<{ rows: number; distinct: number; missing: number }>(
    `SELECT (SELECT count(*)::int FROM applied) AS rows, (SELECT count(DISTINCT event_id)::int FROM applied) AS distinct,
            (SELECT count(*)::int FROM events e WHERE NOT EXISTS (SELECT 1 FROM applied a WHERE a.event_id = e.event_id)) AS missing`,
  );
  const order = await db.query<{ stream_id: string }>(
    `SELECT stream_id FROM (SELECT stream_id, version, row_number() OVER (PARTITION BY stream_id ORDER BY seq) AS n
                              FROM applied) AS x
      WHERE version <> n GROUP BY stream_id`,
  );
  const c = counts.rows[0] as { rows: number; distinct: number; missing: number };
  return { ...c, outOfOrder: order.rows.map((r) => r.stream_id) };
}

/**
 * `writers` concurrent loops appending `total` events between them, 1–3 per transaction, each loop to streams of its
 * own (so that no append loses a race), until all are written.
 */
export async function appendConcurrently(
  db: Database,
  o: { writers: number; total: number; streamsPerWriter?: number; prefix?: string },
): Promise<void> {
  const perWriter = Math.ceil(o.total / o.writers);
  const prefix = o.prefix ?? randomUUID().slice(0, 8);
  await Promise.all(
    Array.from({ length: o.writers }, async (_, w) => {
      const versions = new Map<string, number>();
      let written = 0;
      while (written < perWriter && w * perWriter + written < o.total) {
        const stream = `${prefix}-w${w}-s${Math.floor(Math.random() * (o.streamsPerWriter ?? 10))}`;
        const n = Math.min(1 + Math.floor(Math.random() * 3), perWriter - written, o.total - w * perWriter - written);
        const version = versions.get(stream) ?? 0;
        await db.transaction((tx) =>
          appendToStream(
            tx,
            stream,
            version,
            Array.from({ length: n }, () => ({
              eventId: randomUUID(),
              eventType: 'TEST_EVENT',
              data: { writer: w },
              occurredAt: new Date(),
            })),
          ),
        );
        versions.set(stream, version + n);
        written += n;
      }
    }),
  );
}
