/**
 * The payment store's writes as the kernel commits them: a balance change is a guarded update that refuses the whole
 * effect (no movement, nothing else) rather than overdraw, on PGlite and PostgreSQL; first PUTs of one account at
 * once apply one after the other, so its movements always add up to its balance.
 */
import { randomUUID } from 'node:crypto';
import {
  commitChange,
  commitEffect,
  createLogger,
  type Database,
  EffectRefused,
  KERNEL_MIGRATIONS,
  migrate,
  openDatabase,
  PgliteDatabase,
} from '@commerce/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWith } from '../../../../test/support/services.js';
import { putAccount } from '../application/putAccount.js';
import { paymentDeps } from '../index.js';
import { paymentMigrations } from './migrations.js';
import { paymentStore, readAccount } from './store.js';

const AT = new Date('2026-02-01T08:00:00.000Z');
const deps = paymentDeps({ now: () => AT, newId: randomUUID });

const movements = async (db: Database, customerId: string) =>
  (
    await db.query<{ kind: string; delta: number; balance_after: number }>(
      'SELECT kind, delta, balance_after FROM money_movements WHERE customer_id = $1 ORDER BY id',
      [customerId],
    )
  ).rows.map((m) => [m.kind, Number(m.delta), Number(m.balance_after)]);

function guardContract(name: string, open: () => Promise<{ db: Database; drop(): Promise<void> }>) {
  describe(`payment balance changes on ${name}`, () => {
    let db: Database;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      ({ db, drop } = await open());
      await commitChange(db, putAccount(deps, { customerId: 'gus', balance: 100, currency: 'EUR' }));
    });
    afterAll(async () => {
      await db?.close();
      await drop?.();
    });

    it('a change that keeps the balance ≥ 0 writes it with its movement', async () => {
      const orderId = randomUUID();
      const writes = paymentStore.changeBalance({ customerId: 'gus', kind: 'deduction', delta: -60, at: AT }, orderId);
      await commitEffect(db, { effect: { writes }, result: undefined });
      expect((await readAccount(db, 'gus'))?.balance).toBe(40);
      expect(await movements(db, 'gus')).toEqual([
        ['set', 100, 100],
        ['deduction', -60, 40],
      ]);
    });

    it('a change past 0, or of a missing account, refuses the whole effect: no movement, no other write', async () => {
      const orderId = randomUUID();
      const overdraw = paymentStore.changeBalance(
        { customerId: 'gus', kind: 'deduction', delta: -41, at: AT },
        orderId,
      );
      const payment = paymentStore.savePayment(orderId, {
        customerId: 'gus',
        amount: 41,
        currency: 'EUR',
        status: 'APPROVED',
        reason: null,
        refundedAmount: 0,
        updatedAt: AT,
      });
      const refused = commitEffect(db, { effect: { writes: [...overdraw, payment] }, result: undefined });
      await expect(refused).rejects.toBeInstanceOf(EffectRefused);
      await expect(refused).rejects.toMatchObject({ refusal: 'INSUFFICIENT_FUNDS' });
      expect((await readAccount(db, 'gus'))?.balance).toBe(40);
      expect(await movements(db, 'gus')).toHaveLength(2);
      expect((await db.query('SELECT 1 FROM payments WHERE order_id = $1', [orderId])).rowCount).toBe(0);

      const missing = paymentStore.changeBalance({ customerId: 'nobody', kind: 'deposit', delta: 5, at: AT }, null);
      await expect(commitEffect(db, { effect: { writes: missing }, result: undefined })).rejects.toBeInstanceOf(
        EffectRefused,
      );
      expect(await movements(db, 'nobody')).toEqual([]);
    });
  });
}

guardContract('PGlite', async () => {
  const db = await PgliteDatabase.open();
  await migrate(db, 'kernel', KERNEL_MIGRATIONS);
  await migrate(db, 'payment', paymentMigrations);
  return { db, drop: async () => {} };
});

describeWith(['postgres'], 'payment store on PostgreSQL', () => {
  guardContract('pg', async () => {
    const t = await createTestDatabase('pay_store');
    const db = await openDatabase({ url: t.url, name: 'payment', migrations: paymentMigrations, poolSize: 4 });
    return { db, drop: t.drop };
  });

  it('10 first PUTs of one account at once: the movements add up to the balance the last one set', async () => {
    const t = await createTestDatabase('pay_put');
    const db = await openDatabase({
      url: t.url,
      name: 'payment',
      migrations: paymentMigrations,
      poolSize: 10,
      log: createLogger({ level: 'silent' }),
    });
    try {
      // Ten connections open first, so that the PUTs race rather than wait for connections one by one.
      await Promise.all(Array.from({ length: 10 }, () => db.query('SELECT pg_sleep(0.05)')));
      const balances = Array.from({ length: 10 }, (_, i) => 100 * (i + 1));
      await Promise.all(
        balances.map((balance) => commitChange(db, putAccount(deps, { customerId: 'hal', balance, currency: 'EUR' }))),
      );
      const account = await readAccount(db, 'hal');
      expect(balances).toContain(account?.balance);
      const moved = await movements(db, 'hal');
      expect(moved.reduce((sum, [, delta]) => sum + Number(delta), 0)).toBe(account?.balance);
      // Each movement starts from the balance the one before it left.
      let before = 0;
      for (const [, delta, after] of moved) {
        expect(before + Number(delta)).toBe(after);
        before = Number(after);
      }
    } finally {
      await db.close();
      await t.drop();
    }
  });
});
