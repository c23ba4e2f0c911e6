/**
 * `commerce audit`: checks the invariants of SPEC §9 across the three databases and names every breach.
 *
 * Reads the order database first, then inventory, then payment, each in one repeatable-read snapshot. Effects
 * happen in saga order (a reservation is committed before the order completes, a refund is acknowledged before
 * the order is compensated), so an order read as final has all its effects visible in the later reads: the audit
 * can run while the platform is busy without reporting orders in flight as breaches.
 */
import type { Database, Queryable } from '@commerce/kernel';

export interface Breach {
  invariant: 1 | 2 | 3 | 4 | 5;
  message: string;
  orderId?: string;
  productId?: string;
  customerId?: string;
}

export interface AuditReport {
  ok: boolean;
  checkedAt: string;
  counts: { orders: number; final: number; inFlight: number; products: number; customers: number };
  breaches: Breach[];
  /** Not breaches of SPEC §9 but needing an operator (e.g. COMPENSATION_FAILED orders). */
  warnings: string[];
}

const FINAL = new Set(['COMPLETED', 'CANCELLED', 'COMPENSATED', 'COMPENSATION_FAILED']);

interface OrderRow {
  order_id: string;
  customer_id: string;
  status: string;
  total_amount: number;
  items: { productId: string; quantity: number }[];
  created_at: Date;
}

async function snapshot<T>(db: Database, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    return fn(tx);
  });
}

export async function runAudit(
  dbs: { order: Database; inventory: Database; payment: Database },
  opts: { now: Date; maxAgeMs?: number; sagaTimeoutMs: number },
): Promise<AuditReport> {
  const breaches: Breach[] = [];
  const warnings: string[] = [];
  const maxAgeMs = opts.maxAgeMs ?? 2 * opts.sagaTimeoutMs + 60_000;

  const order = await snapshot(dbs.order, async (tx) => ({
    orders: (
      await tx.query<OrderRow>(
        'SELECT order_id, customer_id, status, total_amount, items, created_at FROM orders ORDER BY created_at',
      )
    ).rows,
    duplicateEvents: (
      await tx.query<{ stream_id: string; event_type: string; n: number }>(
        `SELECT stream_id, event_type, count(*)::int AS n FROM events
          WHERE event_type IN ('ORDER_CREATED', 'ORDER_CONFIRMED', 'ORDER_COMPLETED', 'ORDER_CANCELLED', 'ORDER_COMPENSATED')
          GROUP BY stream_id, event_type HAVING count(*) > 1`,
      )
    ).rows,
    gaps: (
      await tx.query<{ stream_id: string; n: number; top: number }>(
        `SELECT stream_id, count(*)::int AS n, max(version)::int AS top FROM events
          GROUP BY stream_id HAVING count(*) <> max(version)`,
      )
    ).rows,
  }));
  const inv = await snapshot(dbs.inventory, async (tx) => ({
    products: (
      await tx.query<{ product_id: string; available: number; reserved: number; sold: number }>(
        'SELECT product_id, available, reserved, sold FROM products',
      )
    ).rows,
    ledger: (
      await tx.query<{ product_id: string; a: number; r: number; s: number }>(
        `SELECT product_id, sum(delta_available)::bigint AS a, sum(delta_reserved)::bigint AS r, sum(delta_sold)::bigint AS s
           FROM stock_movements GROUP BY product_id`,
      )
    ).rows,
    reservations: (
      await tx.query<{ order_id: string; status: string; lines: { productId: string; quantity: number }[] }>(
        'SELECT order_id, status, lines FROM reservations',
      )
    ).rows,
    twice: (
      await tx.query<{ order_id: string; product_id: string; kind: string; n: number }>(
        `SELECT order_id, product_id, kind, count(*)::int AS n FROM stock_movements
          WHERE order_id IS NOT NULL GROUP BY order_id, product_id, kind HAVING count(*) > 1`,
      )
    ).rows,
  }));
  const pay = await snapshot(dbs.payment, async (tx) => ({
    accounts: (await tx.query<{ customer_id: string; balance: number }>('SELECT customer_id, balance FROM accounts'))
      .rows,
    ledger: (
      await tx.query<{ customer_id: string; total: number; taken: number }>(
        `SELECT customer_id, sum(delta)::bigint AS total,
                coalesce(sum(-delta) FILTER (WHERE kind IN ('deduction', 'refund')), 0)::bigint AS taken
           FROM money_movements GROUP BY customer_id`,
      )
    ).rows,
    payments: (
      await tx.query<{
        order_id: string;
        customer_id: string;
        amount: number;
        refunded_amount: number;
        status: string;
        reason: string | null;
      }>('SELECT order_id, customer_id, amount, refunded_amount, status, reason FROM payments')
    ).rows,
    twice: (
      await tx.query<{ order_id: string; kind: string; n: number }>(
        `SELECT order_id, kind, count(*)::int AS n FROM money_movements
          WHERE order_id IS NOT NULL GROUP BY order_id, kind HAVING count(*) > 1`,
      )
    ).rows,
  }));

  const orders = new Map(order.orders.map((o) => [o.order_id, o]));
  let final = 0;
  // 1. Every accepted order reaches a final state.
  for (const o of order.orders) {
    if (FINAL.has(o.status)) final++;
    else if (opts.now.getTime() - new Date(o.created_at).getTime() > maxAgeMs)
      breaches.push({
        invariant: 1,
        orderId: o.order_id,
        message: `order ${o.order_id} is still ${o.status} ${Math.round((opts.now.getTime() - new Date(o.created_at).getTime()) / 1000)} s after creation`,
      });
    if (o.status === 'COMPENSATION_FAILED')
      warnings.push(
        `order ${o.order_id} is COMPENSATION_FAILED: retry with \`commerce compensation retry ${o.order_id}\``,
      );
  }

  // 2. Stock is conserved: the movement ledger explains every product's figures, and the figures match the orders.
  const ledger = new Map(inv.ledger.map((l) => [l.product_id, l]));
  const heldReserved = new Map<string, number>();
  const heldSold = new Map<string, number>();
  for (const r of inv.reservations) {
    const into = r.status === 'RESERVED' ? heldReserved : r.status === 'COMMITTED' ? heldSold : undefined;
    if (into) for (const line of r.lines) into.set(line.productId, (into.get(line.productId) ?? 0) + line.quantity);
  }
  for (const p of inv.products) {
    const l = ledger.get(p.product_id) ?? { a: 0, r: 0, s: 0 };
    if (Number(l.a) !== p.available || Number(l.r) !== p.reserved || Number(l.s) !== p.sold)
      breaches.push({
        invariant: 2,
        productId: p.product_id,
        message: `product ${p.product_id}: figures available=${p.available} reserved=${p.reserved} sold=${p.sold} differ from its movements (${l.a}/${l.r}/${l.s})`,
      });
    if (p.reserved !== (heldReserved.get(p.product_id) ?? 0) || p.sold !== (heldSold.get(p.product_id) ?? 0))
      breaches.push({
        invariant: 2,
        productId: p.product_id,
        message: `product ${p.product_id}: reserved=${p.reserved} sold=${p.sold} but open reservations hold ${heldReserved.get(p.product_id) ?? 0} and committed ones ${heldSold.get(p.product_id) ?? 0}`,
      });
  }

  // 3. Money is conserved: the ledger explains every balance, and what was taken is what the orders hold. Money put
  // in (the `set` of PUT /customers, the `deposit` of a top-up) is in the ledger as restocks and `set`s are in 2's.
  const moneyLedger = new Map(pay.ledger.map((l) => [l.customer_id, l]));
  // A payment undone before it was requested (rollback first, ORDER_CREATED late) records the order's amount but
  // never took any money: it holds nothing.
  const takenBy = (p: (typeof pay.payments)[number]) =>
    p.status === 'APPROVED' || (p.status === 'REFUNDED' && p.reason !== 'UNDONE_BEFORE_REQUEST')
      ? p.amount - p.refunded_amount
      : 0;
  const held = new Map<string, number>();
  for (const p of pay.payments) held.set(p.customer_id, (held.get(p.customer_id) ?? 0) + takenBy(p));
  for (const a of pay.accounts) {
    const l = moneyLedger.get(a.customer_id);
    if (Number(l?.total ?? 0) !== a.balance)
      breaches.push({
        invariant: 3,
        customerId: a.customer_id,
        message: `customer ${a.customer_id}: balance ${a.balance} differs from its movements (${l?.total ?? 0})`,
      });
    if (Number(l?.taken ?? 0) !== (held.get(a.customer_id) ?? 0))
      breaches.push({
        invariant: 3,
        customerId: a.customer_id,
        message: `customer ${a.customer_id}: ${l?.taken ?? 0} taken by deductions and refunds, but its payments hold ${held.get(a.customer_id) ?? 0}`,
      });
  }

  // 4. Final orders hold exactly what they should; 5. nothing was lost.
  const reservations = new Map(inv.reservations.map((r) => [r.order_id, r]));
  const payments = new Map(pay.payments.map((p) => [p.order_id, p]));
  for (const o of order.orders) {
    const r = reservations.get(o.order_id);
    const p = payments.get(o.order_id);
    const holdsMoney = p !== undefined && (p.status === 'APPROVED' || takenBy(p) > 0);
    if (o.status === 'COMPLETED') {
      if (r?.status !== 'COMMITTED')
        breaches.push({
          invariant: 4,
          orderId: o.order_id,
          message: `order ${o.order_id} is COMPLETED but its stock is ${r?.status ?? 'not reserved'}`,
        });
      if (p?.status !== 'APPROVED' || p.amount !== o.total_amount || p.refunded_amount !== 0)
        breaches.push({
          invariant: 4,
          orderId: o.order_id,
          message: `order ${o.order_id} is COMPLETED (total ${o.total_amount}) but its payment is ${p ? `${p.status} ${p.amount} refunded ${p.refunded_amount}` : 'missing'}`,
        });
    } else if (o.status === 'CANCELLED' || o.status === 'COMPENSATED') {
      if (r && (r.status === 'RESERVED' || r.status === 'COMMITTED'))
        breaches.push({
          invariant: 4,
          orderId: o.order_id,
          message: `order ${o.order_id} is ${o.status} but still holds stock (${r.status})`,
        });
      if (holdsMoney)
        breaches.push({
          invariant: 4,
          orderId: o.order_id,
          message: `order ${o.order_id} is ${o.status} but still holds ${p!.amount - p!.refunded_amount} of ${o.customer_id}'s money`,
        });
    }
  }
  for (const r of inv.reservations)
    if (!orders.has(r.order_id) && (r.status === 'RESERVED' || r.status === 'COMMITTED'))
      breaches.push({
        invariant: 5,
        orderId: r.order_id,
        message: `stock held (${r.status}) for order ${r.order_id}, which the order service does not know: a lost order`,
      });
  for (const p of pay.payments)
    if (!orders.has(p.order_id) && p.status === 'APPROVED')
      breaches.push({
        invariant: 5,
        orderId: p.order_id,
        customerId: p.customer_id,
        message: `payment taken for order ${p.order_id}, which the order service does not know: a lost order`,
      });

  // 5. No effect applied twice.
  for (const t of inv.twice)
    breaches.push({
      invariant: 5,
      orderId: t.order_id,
      productId: t.product_id,
      message: `stock movement ${t.kind} applied ${t.n} times for order ${t.order_id}, product ${t.product_id}`,
    });
  for (const t of pay.twice)
    breaches.push({
      invariant: 5,
      orderId: t.order_id,
      message: `money movement ${t.kind} applied ${t.n} times for order ${t.order_id}`,
    });
  for (const d of order.duplicateEvents)
    breaches.push({ invariant: 5, message: `stream ${d.stream_id} has ${d.n} ${d.event_type} events` });
  for (const g of order.gaps)
    breaches.push({ invariant: 5, message: `stream ${g.stream_id} has ${g.n} events but reaches version ${g.top}` });

  return {
    ok: breaches.length === 0,
    checkedAt: opts.now.toISOString(),
    counts: {
      orders: order.orders.length,
      final,
      inFlight: order.orders.length - final,
      products: inv.products.length,
      customers: pay.accounts.length,
    },
    breaches,
    warnings,
  };
}

export function formatAudit(r: AuditReport): string {
  const head = `audit ${r.checkedAt}: ${r.counts.orders} orders (${r.counts.final} final, ${r.counts.inFlight} in flight), ${r.counts.products} products, ${r.counts.customers} customers`;
  const lines = [head];
  for (const b of r.breaches) lines.push(`BREACH invariant ${b.invariant}: ${b.message}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push(r.ok ? 'OK: every invariant holds' : `${r.breaches.length} breach(es)`);
  return lines.join('\n');
}
