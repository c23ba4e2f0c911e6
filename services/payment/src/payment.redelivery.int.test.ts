import { randomUUID } from 'node:crypto';
import type { Envelope } from '@commerce/contracts';
import { commitChange, type Database, type DedupCache, MemoryDedupCache, openDatabase } from '@commerce/kernel';
import { afterAll, expect, it } from 'vitest';
import { orderEnvelope as env } from '../../../test/support/consumers.js';
import { shuffledRepeats } from '../../../test/support/random.js';
import { createTestDatabase, describeWith } from '../../../test/support/services.js';
import { handlePaymentOrderEvent } from './adapters/consumer.js';
import { paymentMigrations } from './adapters/migrations.js';
import { paymentStore, readAccount } from './adapters/store.js';
import type { PaymentDeps } from './application/ports.js';
import { putAccount } from './application/putAccount.js';

const CUSTOMERS = ['k1', 'k2', 'k3'];
const INITIAL = 1_000_000;

/** Each order's messages, in the order the saga sends them. */
function scenario(kind: 'completed' | 'compensated' | 'declined', i: number): Envelope[] {
  const orderId = randomUUID();
  const customerId = CUSTOMERS[Math.floor(i / 3) % 3]!;
  // A declined order asks for more than the customer ever has, so it is declined whatever the arrival order.
  const totalAmount = kind === 'declined' ? INITIAL + 1 : 100 + i;
  const createdMsg = env('ORDER_CREATED', orderId, {
    customerId,
    currency: 'EUR',
    items: [{ productId: 'p', quantity: 1, unitPrice: totalAmount }],
    totalAmount,
  });
  if (kind === 'completed') return [createdMsg];
  if (kind === 'declined')
    return [
      createdMsg,
      env('ORDER_CANCELLED', orderId, { reasons: ['x'], requiresRefund: false, requiresInventoryRollback: true }),
    ];
  return [
    createdMsg,
    env('ORDER_CANCELLED', orderId, { reasons: ['x'], requiresRefund: true, requiresInventoryRollback: true }),
    env('ORDER_PAYMENT_ROLLBACK_REQUESTED', orderId, { amount: totalAmount, currency: 'EUR' }),
  ];
}

describeWith(['postgres'], 'payment under duplicated, shuffled delivery', () => {
  const dbs: { db: Database; drop(): Promise<void> }[] = [];
  const now = new Date('2026-03-01T12:00:00.000Z');
  const deps: PaymentDeps = { store: paymentStore, now: () => now, newId: randomUUID };
  async function fresh(): Promise<{ db: Database; dedup: DedupCache }> {
    const t = await createTestDatabase('pay_redeliver');
    const db = await openDatabase({ url: t.url, name: 'payment', migrations: paymentMigrations });
    dbs.push({ db, drop: t.drop });
    for (const customerId of CUSTOMERS)
      await commitChange(db, putAccount(deps, { customerId, balance: INITIAL, currency: 'EUR' }));
    return { db, dedup: new MemoryDedupCache() };
  }
  afterAll(async () => {
    for (const d of dbs) {
      await d.db.close();
      await d.drop();
    }
  });

  it('ends with exactly the balances of single in-order delivery (every message 3 times, rollbacks before creates)', async () => {
    const kinds = ['completed', 'compensated', 'declined'] as const;
    const orders = Array.from({ length: 60 }, (_, i) => scenario(kinds[i % 3]!, i));

    const reference = await fresh();
    for (const msgs of orders) for (const m of msgs) await handlePaymentOrderEvent(deps, reference, { envelope: m });

    const shuffled = await fresh();
    const seed = 424242;
    const deliveries = shuffledRepeats(orders.flat(), 3, seed);
    let rollbackFirst = 0;
    for (const msgs of orders) {
      const id = msgs[0]!.orderId;
      const c = deliveries.findIndex((m) => m.orderId === id && m.eventType === 'ORDER_CREATED');
      const r = deliveries.findIndex((m) => m.orderId === id && m.eventType === 'ORDER_PAYMENT_ROLLBACK_REQUESTED');
      if (r >= 0 && r < c) rollbackFirst++;
    }
    expect(rollbackFirst, `seed ${seed}: some rollbacks must arrive before their create`).toBeGreaterThan(0);

    // Several at a time; the fast cache forgets everything (like a restart), so the inbox alone must hold.
    const forgetful = { ...shuffled, dedup: new MemoryDedupCache({ maxEntries: 1 }) };
    for (let i = 0; i < deliveries.length; i += 8)
      await Promise.all(
        deliveries.slice(i, i + 8).map((m) => handlePaymentOrderEvent(deps, forgetful, { envelope: m })),
      );

    for (const customerId of CUSTOMERS) {
      const want = await readAccount(reference.db, customerId);
      expect(await readAccount(shuffled.db, customerId), customerId).toEqual(want);
      expect(want!.balance).toBeLessThan(INITIAL);
    }
    const twice = await shuffled.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT order_id, kind FROM money_movements WHERE order_id IS NOT NULL
        GROUP BY 1, 2 HAVING count(*) > 1) d`,
    );
    expect(twice.rows[0]?.n, 'no effect applied twice').toBe(0);
  });
});
