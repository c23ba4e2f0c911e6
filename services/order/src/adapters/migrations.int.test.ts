/**
 * Order migration 2: a database made before the kernel's idempotency_keys keeps its keys. Its table had an order_id
 * column; after the upgrade the key answers the same order again, and the same key with another body 422s.
 */
import { randomUUID } from 'node:crypto';
import {
  createLogger,
  type Database,
  findIdempotencyKey,
  KERNEL_MIGRATIONS,
  migrate,
  PgDatabase,
  PgliteDatabase,
} from '@commerce/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWith } from '../../../../test/support/services.js';
import { orderMigrations } from '../index.js';

const log = createLogger({ level: 'silent' });

function upgradeContract(name: string, open: () => Promise<Database>, cleanup: () => Promise<void>) {
  describe(`order idempotency keys upgrade on ${name}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db?.close();
      await cleanup();
    });

    it('moves order_id into result and keeps every key', async () => {
      const orderId = randomUUID();
      // The schema as it was: kernel migrations 1–4, then the order service's first migration.
      await migrate(
        db,
        'kernel',
        KERNEL_MIGRATIONS.filter((m) => m.version <= 4),
      );
      await migrate(
        db,
        'order',
        orderMigrations.filter((m) => m.version === 1),
      );
      await db.query(
        'INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, order_id) VALUES ($1, $2, $3, $4)',
        ['alice', 'k-1', 'hash-1', orderId],
      );

      expect(await migrate(db, 'kernel', KERNEL_MIGRATIONS)).toContain(5);
      expect(
        await migrate(
          db,
          'order',
          orderMigrations.filter((m) => m.version <= 2),
        ),
      ).toEqual([2]);

      expect(await findIdempotencyKey(db, 'alice', 'k-1')).toMatchObject({
        requestHash: 'hash-1',
        result: { orderId },
      });
      const columns = await db.query<{ column_name: string }>(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'idempotency_keys' ORDER BY column_name",
      );
      expect(columns.rows.map((c) => c.column_name)).toEqual([
        'created_at',
        'idempotency_key',
        'request_hash',
        'result',
        'scope',
      ]);
    });
  });
}

upgradeContract(
  'PGlite',
  () => PgliteDatabase.open(),
  async () => {},
);

describeWith(['postgres'], 'order idempotency keys upgrade on PostgreSQL', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  upgradeContract(
    'pg',
    async () => {
      t = await createTestDatabase('order_upgrade');
      return new PgDatabase({ url: t.url, log });
    },
    async () => t?.drop(),
  );
});
