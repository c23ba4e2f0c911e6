import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWith, waitFor } from '../../../test/support/services.js';
import { testMessage } from '../test-fixtures/outboxMessages.js';
import { RecordingBus } from '../test-fixtures/recordingBus.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { createLogger } from './log.js';
import { enqueueOutbox, outboxStatus } from './outbox.js';
import { OutboxRelay } from './outboxRelay.js';
import { KERNEL_MIGRATIONS } from './schema.js';

const log = createLogger({ level: 'silent' });

const message = (orderId: string, seq: number) => testMessage(orderId, seq);

function restartPostgres(): void {
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) throw new Error('no cluster under /etc/postgresql');
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], { stdio: 'inherit' });
}

describeWith(['postgres'], 'PostgreSQL restarted under a running pool and relay', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: PgDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('pgrestart');
    db = new PgDatabase({ url: t.url, poolSize: 4, log });
    await migrate(db, 'kernel', KERNEL_MIGRATIONS);
  });
  afterAll(async () => {
    await db?.close();
    await waitFor(() => t.drop().then(() => true), { timeoutMs: 30_000, what: 'dropping the test database' });
  });

  it('(e) the pool and LISTEN recover without a new process; a NOTIFY after the restart wakes the relay', async () => {
    const bus = new RecordingBus();
    // Poll interval far beyond the test: only a NOTIFY can make the relay publish in time.
    const relay = new OutboxRelay({ db, bus, log, pollIntervalMs: 300_000, backoffBaseMs: 100, backoffMaxMs: 1000 });
    await relay.start();
    const orderId = randomUUID();
    await db.transaction((tx) => enqueueOutbox(tx, [message(orderId, 1)]));
    await waitFor(() => bus.received.length === 1, { what: 'publication before the restart' });

    // The pool is in use (every connection checked out once) when the server goes away.
    await Promise.all(Array.from({ length: 4 }, () => db.query('SELECT pg_sleep(0.05)')));
    restartPostgres();

    await waitFor(() => db.ping().then(() => true), { timeoutMs: 30_000, what: 'PostgreSQL back' });
    // The next operations succeed on the same pool (dead connections were dropped, not reused).
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => db.query<{ n: number }>('SELECT $1::int AS n', [i])),
    );
    expect(results.map((r) => r.rows[0]?.n)).toEqual([0, 1, 2, 3, 4, 5]);
    await db.transaction((tx) => tx.query('SELECT 1'));

    // LISTEN resumed: its connection is back in the new server.
    await waitFor(
      async () =>
        (
          await db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN%'",
            [t.name],
          )
        ).rows[0]?.n === 1,
      { timeoutMs: 20_000, what: 'the LISTEN connection to come back' },
    );
    const notifiedBefore = relay.notificationsReceived;
    await db.transaction((tx) => enqueueOutbox(tx, [message(orderId, 2)]));
    await waitFor(() => bus.received.length === 2, { timeoutMs: 10_000, what: 'publication after the restart' });
    expect(relay.notificationsReceived).toBeGreaterThan(notifiedBefore);
    expect((await outboxStatus(db)).unpublished).toBe(0);
    await relay.stop();
    expect(bus.received.map((m) => (m.envelope.data as { seq: number }).seq)).toEqual([1, 2]);
  });
});
