/**
 * Payment migration 2: a database made before the kernel's rollback_markers keeps its markers. They were in
 * payment_rollback_markers; after the upgrade they are in the kernel's table (the old one is gone), and a late
 * ORDER_CREATED of a rolled-back order still takes nothing.
 */
import { randomUUID } from 'node:crypto';
import {
  commitChange,
  createLogger,
  type Database,
  KERNEL_MIGRATIONS,
  MemoryDedupCache,
  migrate,
  PgDatabase,
  PgliteDatabase,
  rollbackMarkerAt,
} from '@commerce/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEnvelope } from '../../../../test/support/consumers.js';
import { createTestDatabase, describeWith } from '../../../../test/support/services.js';
import { putAccount } from '../application/putAccount.js';
import { paymentDeps } from '../index.js';
import { handlePaymentOrderEvent } from './consumer.js';
import { paymentMigrations } from './migrations.js';
import { readAccount, readPayment } from './store.js';

const log = createLogger({ level: 'silent' });
const AT = new Date('2026-02-01T08:00:00.000Z');

function upgradeContract(name: string, open: () => Promise<Database>, cleanup: () => Promise<void>) {
  describe(`payment rollback markers upgrade on ${name}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db?.close();
      await cleanup();
    });

    const [rolledBack, other] = [randomUUID(), randomUUID()];
    const cause = randomUUID();

    it('moves every marker into the kernel table and drops the old one', async () => {
      // The schema as it was: kernel migrations 1–6, then the payment service's first migration.
      await migrate(
        db,
        'kernel',
        KERNEL_MIGRATIONS.filter((m) => m.version <= 6),
      );
      await migrate(
        db,
        'payment',
        paymentMigrations.filter((m) => m.version === 1),
      );
      await db.query(
        'INSERT INTO payment_rollback_markers (order_id, cause_event_id, created_at) VALUES ($1, $2, $3), ($4, NULL, $3)',
        [rolledBack, cause, AT, other],
      );

      expect(await migrate(db, 'kernel', KERNEL_MIGRATIONS)).toContain(7);
      expect(await migrate(db, 'payment', paymentMigrations)).toEqual([2, 3, 4]);

      const markers = await db.query<{ order_id: string; cause_event_id: string | null }>(
        'SELECT order_id, cause_event_id FROM rollback_markers ORDER BY order_id',
      );
      expect(markers.rows).toEqual(
        [
          { order_id: rolledBack, cause_event_id: cause },
          { order_id: other, cause_event_id: null },
        ].sort((a, b) => a.order_id.localeCompare(b.order_id)),
      );
      expect(await rollbackMarkerAt(db, rolledBack)).toEqual(AT);
      const old = await db.query<{ t: string | null }>("SELECT to_regclass('payment_rollback_markers')::text AS t");
      expect(old.rows[0]?.t).toBeNull();
    });

    it('a late ORDER_CREATED of an order rolled back before the upgrade takes nothing', async () => {
      const deps = paymentDeps({ now: () => AT, newId: randomUUID });
      await commitChange(db, putAccount(deps, { customerId: 'ida', balance: 500, currency: 'EUR' }));
      const created = orderEnvelope('ORDER_CREATED', rolledBack, {
        customerId: 'ida',
        currency: 'EUR',
        items: [{ productId: 'p', quantity: 1, unitPrice: 200 }],
        totalAmount: 200,
      });
      const answer = await handlePaymentOrderEvent(deps, { db, dedup: new MemoryDedupCache() }, { envelope: created });
      expect(answer).toEqual({ eventType: 'PAYMENT_REFUNDED', data: { amount: 0, currency: 'EUR' } });
      expect(await readPayment(db, rolledBack)).toMatchObject({ status: 'REFUNDED', reason: 'UNDONE_BEFORE_REQUEST' });
      expect((await readAccount(db, 'ida'))?.balance).toBe(500);
    });
  });
}

upgradeContract(
  'PGlite',
  () => PgliteDatabase.open(),
  async () => {},
);

describeWith(['postgres'], 'payment rollback markers upgrade on PostgreSQL', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  upgradeContract(
    'pg',
    async () => {
      t = await createTestDatabase('pay_upgrade');
      return new PgDatabase({ url: t.url, log });
    },
    async () => t?.drop(),
  );
});
