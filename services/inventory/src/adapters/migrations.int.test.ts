/**
 * Inventory migration 2: a database made before the kernel's rollback_markers keeps its markers. After the upgrade
 * a late ORDER_CREATED of an order rolled back first still reserves nothing, and a reservation made before the
 * upgrade still expires; on PGlite too, where the embedded default runs these statements.
 */
import { randomUUID } from 'node:crypto';
import {
  createLogger,
  type Database,
  KERNEL_MIGRATIONS,
  MemoryDedupCache,
  migrate,
  PgDatabase,
  PgliteDatabase,
  type Settings,
} from '@commerce/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEnvelope } from '../../../../test/support/consumers.js';
import { createTestDatabase, describeWith } from '../../../../test/support/services.js';
import { inventoryDeps, inventoryMigrations } from '../index.js';
import { handleInventoryOrderEvent } from './consumer.js';
import { releaseExpiredReservations } from './reservationSweeper.js';
import { readProduct, readReservation } from './store.js';

const log = createLogger({ level: 'silent' });
const AT = new Date('2026-03-01T12:00:00.000Z');

function upgradeContract(name: string, open: () => Promise<Database>, cleanup: () => Promise<void>) {
  describe(`inventory rollback markers upgrade on ${name}`, () => {
    let db: Database;
    beforeAll(async () => {
      db = await open();
    });
    afterAll(async () => {
      await db?.close();
      await cleanup();
    });

    it('moves the markers to the kernel table; the late request still reserves nothing', async () => {
      const rolledBack = randomUUID();
      const reserved = randomUUID();
      // The schema as it was: kernel migrations 1–6, then inventory's first migration, with its own marker table.
      await migrate(
        db,
        'kernel',
        KERNEL_MIGRATIONS.filter((m) => m.version <= 6),
      );
      await migrate(
        db,
        'inventory',
        inventoryMigrations.filter((m) => m.version === 1),
      );
      await db.query(
        `INSERT INTO products (product_id, name, unit_price, currency, available, reserved, sold, created_at, updated_at)
         VALUES ('pen', 'Pen', 150, 'EUR', 4, 1, 0, $1, $1)`,
        [AT],
      );
      await db.query(
        'INSERT INTO inventory_rollback_markers (order_id, cause_event_id, created_at) VALUES ($1, $2, $3)',
        [rolledBack, randomUUID(), AT],
      );
      await db.query(
        `INSERT INTO reservations (order_id, status, lines, expires_at, created_at, updated_at)
         VALUES ($1, 'RESERVED', $2::jsonb, $3, $3, $3)`,
        [reserved, JSON.stringify([{ productId: 'pen', quantity: 1, unitPrice: 150 }]), AT],
      );

      expect(await migrate(db, 'kernel', KERNEL_MIGRATIONS)).toContain(7);
      expect(await migrate(db, 'inventory', inventoryMigrations)).toEqual([2, 3]);

      expect(await readReservation(db, rolledBack)).toMatchObject({ status: 'NONE', rollbackMarker: true });
      const old = await db.query(
        "SELECT 1 FROM information_schema.tables WHERE table_name = 'inventory_rollback_markers'",
      );
      expect(old.rowCount).toBe(0);

      const later = new Date(AT.getTime() + 60_000);
      const deps = inventoryDeps({
        now: () => later,
        newId: randomUUID,
        settings: { reservationTtlMs: 60_000 } as Settings,
      });
      const ctx = { db, dedup: new MemoryDedupCache() };
      const created = orderEnvelope('ORDER_CREATED', rolledBack, {
        customerId: 'c1',
        currency: 'EUR',
        items: [{ productId: 'pen', quantity: 2, unitPrice: 150 }],
        totalAmount: 300,
      });
      expect(await handleInventoryOrderEvent(deps, ctx, { envelope: created })).toEqual({
        eventType: 'INVENTORY_RELEASED',
        data: {},
      });
      expect((await readReservation(db, rolledBack))?.status).toBe('UNDONE_BEFORE_REQUEST');

      expect(await releaseExpiredReservations(db, deps)).toBe(1);
      expect((await readReservation(db, reserved))?.status).toBe('EXPIRED');
      expect(await readProduct(db, 'pen')).toMatchObject({ available: 5, reserved: 0, sold: 0 });
    });
  });
}

upgradeContract(
  'PGlite',
  () => PgliteDatabase.open(),
  async () => {},
);

describeWith(['postgres'], 'inventory rollback markers upgrade on PostgreSQL', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  upgradeContract(
    'pg',
    async () => {
      t = await createTestDatabase('inv_upgrade');
      return new PgDatabase({ url: t.url, log });
    },
    async () => t?.drop(),
  );
});
