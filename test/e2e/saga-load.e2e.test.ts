/**
 * 1,000 orders with random outcomes through the saga (issue 6): inventory, payment and TWO order processes sharing
 * the order partitions, on real PostgreSQL, RabbitMQ and Redis. Orders are placed concurrently (a fixed number in
 * flight), spread over both order processes' HTTP APIs. Every order must reach a final status; where an order's
 * inputs decide its outcome (a product with ample stock or a wrong price or too large a quantity, a rich or a
 * penniless customer) its status must be exactly that; the stock and balances must add up to the COMPLETED orders;
 * and `commerce audit` must exit 0 with no breach.
 */
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { type DistributedPlatform, http, orderEventTypes, runCommerce, startDistributed } from '../support/platform.js';
import { prng } from '../support/random.js';
import { describeWith, uniqueName, waitFor } from '../support/services.js';

const ORDERS = 1000;
const IN_FLIGHT = 40;
/** Long enough that no order times out under load, so that every deterministic outcome stays deterministic. */
const SAGA_TIMEOUT_MS = 120_000;

type Side = 'OK' | 'FAIL' | 'MAYBE';
interface Product {
  productId: string;
  unitPrice: number;
  stock: number;
  kind: 'ample' | 'scarce';
}
interface Customer {
  customerId: string;
  balance: number;
  kind: 'rich' | 'poor' | 'tight';
}
interface PlannedOrder {
  customer: Customer;
  items: { productId: string; quantity: number; unitPrice: number }[];
  total: number;
  inventory: Side;
  payment: Side;
}

const products: Product[] = [
  ...Array.from({ length: 8 }, (_, i) => ({
    productId: `ample-${i}`,
    unitPrice: 100 + 100 * i,
    stock: 1_000_000,
    kind: 'ample' as const,
  })),
  ...Array.from({ length: 4 }, (_, i) => ({
    productId: `scarce-${i}`,
    unitPrice: 200,
    stock: 25,
    kind: 'scarce' as const,
  })),
];
const customers: Customer[] = [
  ...Array.from({ length: 10 }, (_, i) => ({ customerId: `rich-${i}`, balance: 1_000_000_000, kind: 'rich' as const })),
  // Every order totals at least 100 (cheapest price × 1), so 99 never pays.
  ...Array.from({ length: 5 }, (_, i) => ({ customerId: `poor-${i}`, balance: 99, kind: 'poor' as const })),
  ...Array.from({ length: 5 }, (_, i) => ({ customerId: `tight-${i}`, balance: 20_000, kind: 'tight' as const })),
];

function planOrders(seed: number, n: number): PlannedOrder[] {
  const rnd = prng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const ample = products.filter((p) => p.kind === 'ample');
  const scarce = products.filter((p) => p.kind === 'scarce');
  return Array.from({ length: n }, () => {
    const r = rnd();
    const customer = pick(customers.filter((c) => c.kind === (r < 0.55 ? 'rich' : r < 0.75 ? 'poor' : 'tight')));
    const lines = 1 + Math.floor(rnd() * 3);
    const used = new Set<string>();
    const items: PlannedOrder['items'] = [];
    let inventory: Side = 'OK';
    for (let l = 0; l < lines; l++) {
      const k = rnd();
      const product = k < 0.75 ? pick(ample) : pick(scarce);
      if (used.has(product.productId)) continue;
      used.add(product.productId);
      let quantity = 1 + Math.floor(rnd() * 4);
      let unitPrice = product.unitPrice;
      const twist = rnd();
      if (twist < 0.07) {
        unitPrice = product.unitPrice + 1; // PRICE_MISMATCH, whatever the stock
        inventory = 'FAIL';
      } else if (twist < 0.2 && product.kind === 'scarce') {
        quantity = product.stock + 1; // more than was ever in stock: OUT_OF_STOCK
        inventory = 'FAIL';
      } else if (product.kind === 'scarce' && inventory === 'OK') inventory = 'MAYBE';
      items.push({ productId: product.productId, quantity, unitPrice });
    }
    const total = items.reduce((s, i) => s + i.quantity * i.unitPrice, 0);
    const payment: Side = customer.kind === 'rich' ? 'OK' : customer.kind === 'poor' ? 'FAIL' : 'MAYBE';
    return { customer, items, total, inventory, payment };
  });
}

/** SPEC §6: the final statuses an order can end in given what each side can answer. */
function allowedStatuses(o: PlannedOrder): Set<string> {
  const inv = o.inventory === 'MAYBE' ? ['OK', 'FAIL'] : [o.inventory];
  const pay = o.payment === 'MAYBE' ? ['OK', 'FAIL'] : [o.payment];
  const out = new Set<string>();
  for (const i of inv)
    for (const p of pay) out.add(i === 'OK' && p === 'OK' ? 'COMPLETED' : i === p ? 'CANCELLED' : 'COMPENSATED');
  return out;
}

describeWith(['postgres', 'rabbitmq', 'redis'], 'order saga under load (two order workers)', () => {
  let platform: DistributedPlatform | undefined;
  afterAll(async () => {
    await platform?.stop({ kill: true });
  });

  it(`${ORDERS} orders with random outcomes, ${IN_FLIGHT} in flight: all final, as their inputs imply, audit clean`, {
    timeout: 300_000,
  }, async () => {
    platform = await startDistributed({
      services: [['inventory', 'payment', 'order', 'order']],
      prefix: 'sagaload',
      secret: uniqueName('secret-for-saga-load-tests-only-0123456789'),
      env: { RATE_LIMIT: 'off', SAGA_TIMEOUT_MS: String(SAGA_TIMEOUT_MS) },
      timeoutMs: 90_000,
    });
    const [inventory, payment, orderA, orderB] = platform.processes;
    const dbs = platform.databases;
    const inv = inventory!.urls.inventory!;
    const pay = payment!.urls.payment!;
    const orderUrls = [orderA!.urls.order!, orderB!.urls.order!];
    const admin = platform.adminToken;

    for (const p of products)
      expect(
        (
          await http('PUT', `${inv}/products/${p.productId}`, admin, {
            name: p.productId,
            unitPrice: p.unitPrice,
            currency: 'EUR',
            stock: p.stock,
          })
        ).status,
      ).toBe(200);
    for (const c of customers)
      expect(
        (await http('PUT', `${pay}/customers/${c.customerId}`, admin, { balance: c.balance, currency: 'EUR' })).status,
      ).toBe(200);

    // Both order processes hold a share of the partitions before the load starts.
    const orderDb = new pg.Client({ connectionString: dbs.order });
    await orderDb.connect();
    const owners = async () =>
      (
        await orderDb.query<{ owner: string; n: string }>(
          'SELECT owner, count(*) AS n FROM partition_leases WHERE owner IS NOT NULL AND expires_at > now() GROUP BY owner',
        )
      ).rows;
    await waitFor(async () => (await owners()).length === 2, { timeoutMs: 30_000, what: 'two partition owners' });

    const seed = Number(process.env.SAGA_LOAD_SEED ?? Date.now() % 1_000_000);
    const plan = planOrders(seed, ORDERS);
    const results: { planned: PlannedOrder; orderId: string; final: Record<string, unknown>; ms: number }[] = [];
    const started = Date.now();
    let next = 0;
    const worker = async (w: number) => {
      while (next < plan.length) {
        const i = next++;
        const planned = plan[i]!;
        const base = orderUrls[(i + w) % 2]!;
        const t0 = Date.now();
        const created = await http('POST', `${base}/orders`, admin, {
          customerId: planned.customer.customerId,
          currency: 'EUR',
          items: planned.items,
        });
        if (created.status !== 202)
          throw new Error(`order ${i} (seed ${seed}): POST /orders ${created.status} ${JSON.stringify(created.body)}`);
        const orderId = created.body.orderId as string;
        // Read back through the other process: both serve the same read model.
        const other = orderUrls[(i + w + 1) % 2]!;
        const final = await waitFor(
          async () => {
            const r = await http('GET', `${other}/orders/${orderId}`, admin);
            return ['COMPLETED', 'CANCELLED', 'COMPENSATED', 'COMPENSATION_FAILED'].includes(r.body?.status)
              ? r.body
              : undefined;
          },
          { timeoutMs: 90_000, intervalMs: 200, what: `order ${i} (${orderId}, seed ${seed}) to reach a final status` },
        );
        results.push({ planned, orderId, final, ms: Date.now() - t0 });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));
    const elapsedMs = Date.now() - started;

    const byStatus: Record<string, number> = {};
    for (const r of results) byStatus[r.final.status as string] = (byStatus[r.final.status as string] ?? 0) + 1;
    const latencies = results.map((r) => r.ms).sort((a, b) => a - b);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
    const deterministic = results.filter((r) => allowedStatuses(r.planned).size === 1).length;
    const leases = await owners();
    console.log(
      `saga load: ${results.length} orders (seed ${seed}) in ${(elapsedMs / 1000).toFixed(1)} s = ` +
        `${((results.length * 1000) / elapsedMs).toFixed(1)} orders/s, ${IN_FLIGHT} in flight, POST→final ` +
        `p50 ${pct(50)} ms p99 ${pct(99)} ms; statuses ${JSON.stringify(byStatus)}; ${deterministic} with a ` +
        `deterministic outcome; partitions per order process ${JSON.stringify(leases.map((l) => Number(l.n)))}`,
    );

    expect(results).toHaveLength(ORDERS);
    expect(new Set(results.map((r) => r.orderId)).size).toBe(ORDERS);
    expect(byStatus.COMPENSATION_FAILED ?? 0).toBe(0);
    for (const r of results) {
      const where = `order ${r.orderId} (seed ${seed}) ${JSON.stringify(r.planned)} → ${JSON.stringify(r.final)}`;
      expect([...allowedStatuses(r.planned)], where).toContain(r.final.status);
      expect(r.final.totalAmount, where).toBe(r.planned.total);
      expect(JSON.stringify(r.final.reasons), where).not.toMatch(/SAGA_TIMEOUT/);
      const inventory = (r.final.inventory as { status: string }).status;
      const payment = (r.final.payment as { status: string }).status;
      if (r.planned.inventory === 'FAIL') expect(inventory, where).toBe('FAILED');
      if (r.planned.payment === 'FAIL') expect(payment, where).toBe('DECLINED');
      if (r.final.status === 'COMPLETED') expect([inventory, payment], where).toEqual(['COMMITTED', 'APPROVED']);
    }
    // Outcomes vary: every kind of ending happened.
    for (const s of ['COMPLETED', 'CANCELLED', 'COMPENSATED']) expect(byStatus[s] ?? 0, s).toBeGreaterThan(0);
    expect(results.some((r) => JSON.stringify(r.final.reasons).includes('OUT_OF_STOCK'))).toBe(true);
    expect(results.some((r) => JSON.stringify(r.final.reasons).includes('PRICE_MISMATCH'))).toBe(true);
    expect(results.some((r) => JSON.stringify(r.final.reasons).includes('INSUFFICIENT_FUNDS'))).toBe(true);
    // Each stream ends in its final event and holds no event type twice (no result or step applied twice).
    const lastEvent: Record<string, string> = {
      COMPLETED: 'ORDER_COMPLETED',
      CANCELLED: 'ORDER_CANCELLED',
      COMPENSATED: 'ORDER_COMPENSATED',
    };
    let checked = 0;
    await Promise.all(
      Array.from({ length: 20 }, async (_, w) => {
        while (checked < results.length) {
          const r = results[checked++]!;
          const types = await orderEventTypes(orderUrls[w % 2]!, admin, r.orderId);
          const where = `order ${r.orderId} (seed ${seed}): ${types.join(', ')}`;
          expect(types[0], where).toBe('ORDER_CREATED');
          expect(types.at(-1), where).toBe(lastEvent[r.final.status as string]);
          expect(new Set(types).size, where).toBe(types.length);
        }
      }),
    );
    // Both order processes still share the partitions.
    expect(leases).toHaveLength(2);

    // Stock and money add up to exactly the COMPLETED orders.
    const completed = results.filter((r) => r.final.status === 'COMPLETED');
    for (const p of products) {
      const sold = completed.reduce(
        (s, r) => s + r.planned.items.filter((i) => i.productId === p.productId).reduce((q, i) => q + i.quantity, 0),
        0,
      );
      const body = (await http('GET', `${inv}/products/${p.productId}`, admin)).body;
      expect(body, p.productId).toMatchObject({ available: p.stock - sold, reserved: 0, sold });
    }
    for (const c of customers) {
      const spent = completed
        .filter((r) => r.planned.customer.customerId === c.customerId)
        .reduce((s, r) => s + r.planned.total, 0);
      expect((await http('GET', `${pay}/customers/${c.customerId}`, admin)).body.balance, c.customerId).toBe(
        c.balance - spent,
      );
    }
    await orderDb.end();

    const audit = await runCommerce(['audit', '--json'], {
      ORDER_DATABASE_URL: dbs.order,
      INVENTORY_DATABASE_URL: dbs.inventory,
      PAYMENT_DATABASE_URL: dbs.payment,
    });
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    const report = JSON.parse(audit.stdout);
    expect(report).toMatchObject({ ok: true, breaches: [], counts: { orders: ORDERS, final: ORDERS, inFlight: 0 } });
    console.log(
      `commerce audit: exit ${audit.code}, ${report.breaches.length} breaches, counts ${JSON.stringify(report.counts)}`,
    );
  });
});
