/**
 * A relay process for the crash test (outbox.kill.int.test.ts). It publishes into a table of
 * another database (durable: it survives the kill), tells the parent over IPC, then waits
 * forever inside bus.publish so that the parent can SIGKILL it between publish and mark.
 *
 * env: OUTBOX_DB_URL (the outbox), RECORD_DB_URL (where publications are recorded), BATCH_SIZE.
 */
import pg from 'pg';
import { PgDatabase } from '../src/db/pg.js';
import { createLogger } from '../src/log.js';
import { OutboxRelay } from '../src/outboxRelay.js';
import { RecordingBus } from './recordingBus.js';

const outboxUrl = process.env.OUTBOX_DB_URL;
const recordUrl = process.env.RECORD_DB_URL;
if (!outboxUrl || !recordUrl) throw new Error('OUTBOX_DB_URL and RECORD_DB_URL must be set');

const record = new pg.Client({ connectionString: recordUrl });
await record.connect();
const db = new PgDatabase({ url: outboxUrl, poolSize: 2 });
const bus = new RecordingBus(async (messages) => {
  await record.query('INSERT INTO published (message_id) SELECT jsonb_array_elements_text($1::jsonb)::uuid', [
    JSON.stringify(messages.map((m) => m.envelope.eventId)),
  ]);
  process.send?.({ published: messages.length });
  // The broker "confirmed"; the process dies before the relay marks the rows.
  await new Promise(() => {});
});
const relay = new OutboxRelay({
  db,
  bus,
  log: createLogger({ level: 'silent' }),
  batchSize: Number(process.env.BATCH_SIZE ?? 20),
});
await relay.start();
process.send?.({ started: true });
