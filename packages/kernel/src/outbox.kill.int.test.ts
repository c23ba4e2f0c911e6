import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../test/support/services.js';
import { testMessage } from '../test-fixtures/outboxMessages.js';
import { RecordingBus } from '../test-fixtures/recordingBus.js';
import type { OutgoingMessage } from './bus/port.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { commitChange } from './effect.js';
import { createLogger } from './log.js';
import { enqueueOutbox, outboxStatus } from './outbox.js';
import { OutboxRelay } from './outboxRelay.js';
import { KERNEL_MIGRATIONS } from './schema.js';
import type { DedupCache } from './service.js';

const log = createLogger({ level: 'silent' });
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const childScript = fileURLToPath(new URL('../test-fixtures/outboxRelayChild.ts', import.meta.url));
/** No cache at all: only the inbox row may stop a duplicate. */
const noCache: DedupCache = { seen: async () => false, remember: async () => {} };

describeWith(['postgres'], 'outbox relay killed between publish and mark', () => {
  let outboxTestDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let recordTestDb: Awaited<ReturnType<typeof createTestDatabase>>;
  let outbox: PgDatabase;
  let consumerDb: PgDatabase;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    outboxTestDb = await createTestDatabase('killout');
    recordTestDb = await createTestDatabase('killrec');
    outbox = new PgDatabase({ url: outboxTestDb.url, log });
    consumerDb = new PgDatabase({ url: recordTestDb.url, log });
    await migrate(outbox, 'kernel', KERNEL_MIGRATIONS);
    await migrate(consumerDb, 'kernel', KERNEL_MIGRATIONS);
    await consumerDb.exec(`CREATE TABLE published (seq bigserial PRIMARY KEY, message_id uuid NOT NULL);
      CREATE TABLE effects (message_id uuid NOT NULL)`);
  });
  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await outbox?.close();
    await consumerDb?.close();
    await outboxTestDb?.drop();
    await recordTestDb?.drop();
  });

  it('(c) republishes after a SIGKILL, and the inbox applies each effect exactly once', async () => {
    const ids: string[] = [];
    for (let o = 0; o < 10; o++) {
      const orderId = randomUUID();
      const messages: OutgoingMessage[] = Array.from({ length: 5 }, (_, i) => {
        const m = testMessage(orderId, i + 1);
        ids.push(m.envelope.eventId);
        return m;
      });
      await outbox.transaction((tx) => enqueueOutbox(tx, messages));
    }

    // 1. A relay process publishes its first batch, then is killed before it marks it.
    const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', childScript], {
      cwd: repoRoot,
      env: { ...process.env, OUTBOX_DB_URL: outboxTestDb.url, RECORD_DB_URL: recordTestDb.url, BATCH_SIZE: '20' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child = proc;
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      proc.once('exit', (_code, signal) => resolve(signal)),
    );
    const published = await new Promise<number>((resolve, reject) => {
      proc.on('message', (m: { published?: number }) => {
        if (m.published !== undefined) resolve(m.published);
      });
      proc.once('exit', (code) => reject(new Error(`relay process exited early with code ${code}`)));
    });
    expect(published).toBe(20);
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const count = async () =>
      (await consumerDb.query<{ n: number }>('SELECT count(*)::int AS n FROM published')).rows[0]?.n ?? 0;
    expect(await count()).toBe(20);
    // Published, but never marked: the claim transaction died with the process.
    expect((await outboxStatus(outbox)).unpublished).toBe(50);

    // 2. Restart: a new relay publishes everything (the first 20 again).
    const bus = new RecordingBus(async (ms) => {
      await consumerDb.query('INSERT INTO published (message_id) SELECT jsonb_array_elements_text($1::jsonb)::uuid', [
        JSON.stringify(ms.map((m) => m.envelope.eventId)),
      ]);
    });
    const relay = new OutboxRelay({ db: outbox, bus, log, batchSize: 20, pollIntervalMs: 100 });
    await relay.start();
    await waitFor(async () => (await outboxStatus(outbox)).unpublished === 0, { what: 'the restarted relay' });
    await relay.stop();

    const rows = await consumerDb.query<{ message_id: string }>('SELECT message_id FROM published ORDER BY seq');
    const deliveries = rows.rows.map((r) => r.message_id);
    expect(deliveries).toHaveLength(70);
    expect(new Set(deliveries)).toEqual(new Set(ids));

    // 3. An inbox-guarded consumer sees all 70 deliveries and applies 50 effects.
    let applied = 0;
    for (const messageId of deliveries) {
      const r = await commitChange(
        consumerDb,
        {
          inbox: { consumer: 'test-consumer', messageId },
          load: async () => undefined,
          decide: () => ({
            result: messageId,
            effect: { writes: [{ sql: 'INSERT INTO effects (message_id) VALUES ($1)', params: [messageId] }] },
          }),
        },
        { dedup: noCache },
      );
      if (r.kind === 'applied') applied++;
    }
    expect(applied).toBe(50);
    const effects = await consumerDb.query<{ n: number; d: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS d FROM effects',
    );
    expect(effects.rows[0]).toEqual({ n: 50, d: 50 });
  });
});
