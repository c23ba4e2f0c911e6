/**
 * Returns on the distributed platform (issue 21): 100 COMPLETED orders, then 150 return requests at random — partial
 * ones, ones over what can still be returned, and bursts of concurrent ones on the same order. Every accepted return
 * (202) completes, every refused one is a 409 naming what can still be returned, the stock and the balances move by
 * exactly the returned units and their paid value, and `commerce audit` passes: balanced to the unit and the cent.
 */
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { type DistributedPlatform, http, runCommerce, startDistributed } from '../support/platform.js';
import { prng } from '../support/random.js';
import { describeWith, uniqueName, waitFor } from '../support/services.js';

const ORDERS = 100;
const REQUESTS = 150;
/** Orders that get a burst of concurrent requests, each asking for every unit bought: exactly one may win. */
const BURST_ORDERS = 10;
const BURST = 3;

const products = Array.from({ length: 6 }, (_, i) => ({
  productId: `ret-${i}`,
  unitPrice: 199 + 137 * i,
  stock: 10_000,
}));
const customers = Array.from({ length: 10 }, (_, i) => ({ customerId: `returner-${i}`, balance: 10_000_000 }));
type Line = { productId: string; quantity: number; unitPrice: number };
interface Placed {
  orderId: string;
  customerId: string;
  items: Line[];
  total: number;
}
interface Asked {
  orderId: string;
  items: { productId: string; quantity: number }[];
}
interface Answer {
  asked: Asked;
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read field by field
  body: any;
  location: string | null;
}

describeWith(['postgres', 'rabbitmq', 'redis'], 'returns with partial refunds', () => {
  let platform: DistributedPlatform | undefined;
  afterAll(async () => {
    await platform?.stop({ kill: true });
  });

  it(`${ORDERS} completed orders, ${REQUESTS} random return requests: accepted ones complete, refused ones are 409, audit clean`, {
    timeout: 300_000,
  }, async () => {
    platform = await startDistributed({
      services: [['inventory', 'payment', 'order']],
      prefix: 'returns',
      secret: uniqueName('secret-for-returns-tests-only-0123456789'),
      env: { RATE_LIMIT: 'off', SAGA_TIMEOUT_MS: '120000' },
      timeoutMs: 90_000,
    });
    const { inventory: inv, payment: pay, order: ord } = platform.urls as Record<string, string>;
    const admin = platform.adminToken;
    const seed = Number(process.env.RETURNS_SEED ?? Date.now() % 1_000_000);
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;

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

    // 100 orders that complete: ample stock, rich customers, the catalogue's prices.
    const planned = Array.from({ length: ORDERS }, () => {
      const used = [...products].sort(() => rnd() - 0.5).slice(0, 1 + Math.floor(rnd() * 3));
      const items = used.map((p) => ({
        productId: p.productId,
        quantity: 1 + Math.floor(rnd() * 4),
        unitPrice: p.unitPrice,
      }));
      return { customerId: pick(customers).customerId, items };
    });
    const placed: Placed[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < planned.length) {
          const p = planned[next++]!;
          const r = await http('POST', `${ord}/orders`, admin, {
            customerId: p.customerId,
            currency: 'EUR',
            items: p.items,
          });
          expect(r.status, JSON.stringify(r.body)).toBe(202);
          const orderId = r.body.orderId as string;
          const done = await waitFor(
            async () => {
              const o = await http('GET', `${ord}/orders/${orderId}`, admin);
              return ['COMPLETED', 'CANCELLED', 'COMPENSATED', 'COMPENSATION_FAILED'].includes(o.body?.status)
                ? o.body
                : undefined;
            },
            { timeoutMs: 90_000, intervalMs: 100, what: `order ${orderId} to complete` },
          );
          expect(done.status, JSON.stringify(done)).toBe('COMPLETED');
          expect(done).toMatchObject({ returnStatus: 'NONE', returned: [], refundedAmount: 0 });
          placed.push({ ...p, orderId, total: p.items.reduce((s, i) => s + i.quantity * i.unitPrice, 0) });
        }
      }),
    );
    expect(placed).toHaveLength(ORDERS);

    // The requests. Bursts: BURST concurrent requests per order, each for every unit bought (one wins, the others 409).
    // The rest: per order, one after the other, so that what each answer must be is known: partial ones, ones over the
    // limit (more than is left), and ones for exactly what is left.
    const burstOrders = placed.slice(0, BURST_ORDERS);
    const others = placed.slice(BURST_ORDERS);
    const sequences = new Map<string, Asked[]>();
    for (let i = 0; i < REQUESTS - BURST_ORDERS * BURST; i++) {
      const o = pick(others);
      const line = pick(o.items);
      const kind = rnd();
      // Quantities relative to the line bought; the expectation is computed when the answer comes.
      const quantity = kind < 0.25 ? line.quantity + 1 + Math.floor(rnd() * 3) : 1 + Math.floor(rnd() * line.quantity);
      const extra = rnd() < 0.3 ? o.items.filter((l) => l !== line).slice(0, 1) : [];
      const items = [
        { productId: line.productId, quantity },
        ...extra.map((l) => ({ productId: l.productId, quantity: 1 })),
      ];
      sequences.set(o.orderId, [...(sequences.get(o.orderId) ?? []), { orderId: o.orderId, items }]);
    }
    const ask = async (a: Asked): Promise<Answer> => {
      const r = await http('POST', `${ord}/orders/${a.orderId}/returns`, admin, { items: a.items, reason: 'e2e' });
      return { asked: a, status: r.status, body: r.body, location: r.headers.get('location') };
    };
    const left = new Map(placed.map((o) => [o.orderId, new Map(o.items.map((l) => [l.productId, l.quantity]))]));
    const answers: Answer[] = [];
    const expectedRefused: Answer[] = [];
    const sequential = [...sequences.values()];
    await Promise.all([
      ...burstOrders.map(async (o) => {
        const burst = await Promise.all(
          Array.from({ length: BURST }, () =>
            ask({ orderId: o.orderId, items: o.items.map((l) => ({ productId: l.productId, quantity: l.quantity })) }),
          ),
        );
        expect(burst.map((b) => b.status).sort(), JSON.stringify(burst.map((b) => b.body))).toEqual([202, 409, 409]);
        for (const l of o.items) left.get(o.orderId)!.set(l.productId, 0);
        answers.push(...burst);
      }),
      ...sequential.map(async (seq) => {
        for (const a of seq) {
          const remaining = left.get(a.orderId)!;
          const fits = a.items.every((i) => i.quantity <= (remaining.get(i.productId) ?? 0));
          const answer = await ask(a);
          answers.push(answer);
          expect(
            answer.status,
            `${JSON.stringify(a)} with ${JSON.stringify([...remaining])}: ${JSON.stringify(answer.body)}`,
          ).toBe(fits ? 202 : 409);
          if (fits) for (const i of a.items) remaining.set(i.productId, remaining.get(i.productId)! - i.quantity);
          else expectedRefused.push(answer);
        }
      }),
    ]);
    expect(answers).toHaveLength(REQUESTS);
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 409);
    console.log(`returns (seed ${seed}): ${accepted.length} accepted, ${refused.length} refused of ${answers.length}`);
    expect(accepted.length + refused.length).toBe(REQUESTS);
    expect(refused.length).toBeGreaterThanOrEqual(BURST_ORDERS * (BURST - 1));
    expect(
      accepted.some(
        (a) => a.asked.items.length > 1 || a.body.amount < placed.find((o) => o.orderId === a.asked.orderId)!.total,
      ),
    ).toBe(true);

    // A refusal says what can still be returned, as a problem.
    for (const r of refused) {
      expect(r.body, JSON.stringify(r.body)).toMatchObject({ status: 409, title: 'Conflict' });
      expect(Array.isArray(r.body.returnable), JSON.stringify(r.body)).toBe(true);
    }
    for (const r of expectedRefused) {
      const remaining = left.get(r.asked.orderId)!;
      const shown = new Map(
        (r.body.returnable as { productId: string; quantity: number }[]).map((x) => [x.productId, x.quantity]),
      );
      // Answered before later requests of the same order: what it shows is what was left then, which every
      // later accepted request could only lower.
      for (const [productId, q] of remaining) expect(shown.get(productId) ?? 0).toBeGreaterThanOrEqual(q);
    }

    // Every accepted return completes, at its Location.
    for (const a of accepted) {
      expect(a.location).toBe(`/orders/${a.asked.orderId}/returns/${a.body.returnId}`);
      expect(a.body).toMatchObject({ status: 'REQUESTED', orderId: a.asked.orderId, currency: 'EUR' });
    }
    await waitFor(
      async () => {
        const pending = await Promise.all(
          accepted.map(async (a) => (await http('GET', `${ord}${a.location}`, admin)).body?.status !== 'COMPLETED'),
        );
        return pending.some(Boolean) ? undefined : true;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'every accepted return to complete' },
    );

    // Per order: the units returned and the amount refunded are exactly the accepted returns', at the order's prices.
    const returnedUnits = new Map<string, number>();
    const refundedTo = new Map<string, number>();
    for (const o of placed) {
      const mine = accepted.filter((a) => a.asked.orderId === o.orderId);
      const price = new Map(o.items.map((l) => [l.productId, l.unitPrice]));
      const units = new Map<string, number>();
      let amount = 0;
      for (const a of mine)
        for (const i of a.asked.items) {
          units.set(i.productId, (units.get(i.productId) ?? 0) + i.quantity);
          amount += i.quantity * price.get(i.productId)!;
        }
      expect(mine.reduce((s, a) => s + a.body.amount, 0)).toBe(amount);
      const view = (await http('GET', `${ord}/orders/${o.orderId}`, admin)).body;
      const bought = o.items.reduce((s, l) => s + l.quantity, 0);
      const back = [...units.values()].reduce((s, q) => s + q, 0);
      expect(view.status).toBe('COMPLETED');
      expect(view.refundedAmount).toBe(amount);
      expect(
        new Map((view.returned as { productId: string; quantity: number }[]).map((r) => [r.productId, r.quantity])),
      ).toEqual(units);
      expect(view.returnStatus).toBe(back === 0 ? 'NONE' : back === bought ? 'RETURNED' : 'PARTIALLY_RETURNED');
      for (const [productId, q] of units) {
        expect(q).toBeLessThanOrEqual(o.items.find((l) => l.productId === productId)!.quantity);
        returnedUnits.set(productId, (returnedUnits.get(productId) ?? 0) + q);
      }
      refundedTo.set(o.customerId, (refundedTo.get(o.customerId) ?? 0) + amount);
      const list = (await http('GET', `${ord}/orders/${o.orderId}/returns`, admin)).body;
      expect(list.items.map((r: { returnId: string }) => r.returnId).sort()).toEqual(
        mine.map((a) => a.body.returnId).sort(),
      );
      const payment = (await http('GET', `${pay}/payments/${o.orderId}`, admin)).body;
      expect(payment).toMatchObject({ status: 'APPROVED', amount: o.total, refundedAmount: amount });
    }

    // Stock to the unit, money to the cent.
    for (const p of products) {
      const sold = placed.reduce((s, o) => s + (o.items.find((l) => l.productId === p.productId)?.quantity ?? 0), 0);
      const back = returnedUnits.get(p.productId) ?? 0;
      expect((await http('GET', `${inv}/products/${p.productId}`, admin)).body, p.productId).toMatchObject({
        available: p.stock - sold + back,
        reserved: 0,
        sold: sold - back,
      });
    }
    for (const c of customers) {
      const spent = placed.filter((o) => o.customerId === c.customerId).reduce((s, o) => s + o.total, 0);
      expect((await http('GET', `${pay}/customers/${c.customerId}`, admin)).body.balance, c.customerId).toBe(
        c.balance - spent + (refundedTo.get(c.customerId) ?? 0),
      );
    }

    const audit = await runCommerce(['audit', '--json'], {
      ORDER_DATABASE_URL: platform.databases.order,
      INVENTORY_DATABASE_URL: platform.databases.inventory,
      PAYMENT_DATABASE_URL: platform.databases.payment,
    });
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({
      ok: true,
      breaches: [],
      counts: { orders: ORDERS, final: ORDERS },
    });

    // The read model rebuilt from the event store shows the same returns.
    const dbEnv = {
      ORDER_DATABASE_URL: platform.databases.order,
      INVENTORY_DATABASE_URL: platform.databases.inventory,
      PAYMENT_DATABASE_URL: platform.databases.payment,
    };
    const sample = placed.slice(0, 20);
    const before = await Promise.all(
      sample.map(async (o) => (await http('GET', `${ord}/orders/${o.orderId}/returns`, admin)).body),
    );
    const replay = await runCommerce(['replay', 'projections'], dbEnv);
    expect(replay.code, replay.stdout + replay.stderr).toBe(0);
    const after = await Promise.all(
      sample.map(async (o) => (await http('GET', `${ord}/orders/${o.orderId}/returns`, admin)).body),
    );
    expect(after).toEqual(before);

    // The audit notices a refund beyond what was paid, naming the order.
    const victim = accepted[0]!.asked.orderId;
    const db = new pg.Client({ connectionString: platform.databases.payment });
    await db.connect();
    await db.query('UPDATE payments SET refunded_amount = amount + 1 WHERE order_id = $1', [victim]);
    await db.end();
    const broken = await runCommerce(['audit', '--json'], {
      ORDER_DATABASE_URL: platform.databases.order,
      INVENTORY_DATABASE_URL: platform.databases.inventory,
      PAYMENT_DATABASE_URL: platform.databases.payment,
    });
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout).breaches).toEqual(
      expect.arrayContaining([expect.objectContaining({ invariant: 3, orderId: victim })]),
    );
  });
});
