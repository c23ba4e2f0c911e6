/**
 * `commerce audit`: checks the invariants of SPEC §9 across the three databases and names every breach.
 *
 * Each service reads its own tables (order's `auditOrders`, inventory's `auditStock`, payment's `auditMoney`); the
 * invariants are checked here. Reads the order database first, then inventory, then payment, each in one
 * repeatable-read snapshot. Effects happen in saga order (a reservation is committed before the order completes, a
 * refund is acknowledged before the order is compensated), so an order read as final has all its effects visible in
 * the later reads: the audit can run while the platform is busy without reporting orders in flight as breaches.
 */
import { auditStock } from '@commerce/inventory';
import type { Database, Queryable } from '@commerce/kernel';
import { auditOrders, FINAL_STATUSES } from '@commerce/order';
import { auditMoney, type MoneyAuditFacts } from '@commerce/payment';
import { auditReturns, restockedByOrder, soldAfterReturns } from './auditReturns.js';

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

/** One repeatable-read, read-only transaction: every read of `fn` sees the same moment of that database. */
async function snapshot<T>(db: Database, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    return fn(tx);
  });
}

export async function runAudit(
  dbs: { order: Database; inventory: Database; payment: Database },
  /** reviewTimeoutMs: an order UNDER_REVIEW waits for a person that much longer (REVIEW_TIMEOUT_MS, default a day). */
  opts: { now: Date; maxAgeMs?: number; sagaTimeoutMs: number; reviewTimeoutMs?: number },
): Promise<AuditReport> {
  const breaches: Breach[] = [];
  const warnings: string[] = [];
  const maxAgeMs = opts.maxAgeMs ?? 2 * opts.sagaTimeoutMs + 60_000;

  const order = await snapshot(dbs.order, auditOrders);
  const inv = await snapshot(dbs.inventory, auditStock);
  const pay = await snapshot(dbs.payment, auditMoney);

  const orders = new Map(order.orders.map((o) => [o.orderId, o]));
  let final = 0;
  // 1. Every accepted order reaches a final state.
  for (const o of order.orders) {
    const ageMs = opts.now.getTime() - new Date(o.createdAt).getTime();
    if (FINAL_STATUSES.has(o.status)) final++;
    else if (ageMs > maxAgeMs + (o.status === 'UNDER_REVIEW' ? (opts.reviewTimeoutMs ?? 86_400_000) : 0))
      breaches.push({
        invariant: 1,
        orderId: o.orderId,
        message: `order ${o.orderId} is still ${o.status} ${Math.round(ageMs / 1000)} s after creation`,
      });
    if (o.status === 'COMPENSATION_FAILED')
      warnings.push(
        `order ${o.orderId} is COMPENSATION_FAILED: retry with \`commerce compensation retry ${o.orderId}\``,
      );
  }

  // 2. Stock is conserved: the movement ledger explains every product's figures, and the figures match the orders.
  const ledger = new Map(inv.movementTotals.map((l) => [l.productId, l]));
  const heldReserved = new Map<string, number>();
  const heldSold = new Map<string, number>();
  // Units a return restocked are no longer sold (issue 21).
  const restocked = restockedByOrder(inv);
  for (const r of inv.reservations) {
    const into = r.status === 'RESERVED' ? heldReserved : r.status === 'COMMITTED' ? heldSold : undefined;
    const lines = r.status === 'COMMITTED' ? soldAfterReturns(r.lines, restocked.get(r.orderId)) : r.lines;
    if (into) for (const line of lines) into.set(line.productId, (into.get(line.productId) ?? 0) + line.quantity);
  }
  for (const p of inv.products) {
    const l = ledger.get(p.productId) ?? { available: 0, reserved: 0, sold: 0 };
    if (l.available !== p.available || l.reserved !== p.reserved || l.sold !== p.sold)
      breaches.push({
        invariant: 2,
        productId: p.productId,
        message: `product ${p.productId}: figures available=${p.available} reserved=${p.reserved} sold=${p.sold} differ from its movements (${l.available}/${l.reserved}/${l.sold})`,
      });
    if (p.reserved !== (heldReserved.get(p.productId) ?? 0) || p.sold !== (heldSold.get(p.productId) ?? 0))
      breaches.push({
        invariant: 2,
        productId: p.productId,
        message: `product ${p.productId}: reserved=${p.reserved} sold=${p.sold} but open reservations hold ${heldReserved.get(p.productId) ?? 0} and committed ones ${heldSold.get(p.productId) ?? 0}`,
      });
  }

  // 3. Money is conserved: the ledger explains every balance, and what was taken is what the orders hold. Money put
  // in (the `set` of PUT /customers, the `deposit` of a top-up) is in the ledger as restocks and `set`s are in 2's.
  const moneyLedger = new Map(pay.movementTotals.map((l) => [l.customerId, l]));
  const held = new Map<string, number>();
  for (const p of pay.payments) held.set(p.customerId, (held.get(p.customerId) ?? 0) + takenBy(p));
  for (const a of pay.accounts) {
    const l = moneyLedger.get(a.customerId);
    if ((l?.total ?? 0) !== a.balance)
      breaches.push({
        invariant: 3,
        customerId: a.customerId,
        message: `customer ${a.customerId}: balance ${a.balance} differs from its movements (${l?.total ?? 0})`,
      });
    if ((l?.taken ?? 0) !== (held.get(a.customerId) ?? 0))
      breaches.push({
        invariant: 3,
        customerId: a.customerId,
        message: `customer ${a.customerId}: ${l?.taken ?? 0} taken by deductions and refunds, but its payments hold ${held.get(a.customerId) ?? 0}`,
      });
  }

  // 4. Final orders hold exactly what they should; 5. nothing was lost.
  const reservations = new Map(inv.reservations.map((r) => [r.orderId, r]));
  const payments = new Map(pay.payments.map((p) => [p.orderId, p]));
  for (const o of order.orders) {
    const r = reservations.get(o.orderId);
    const p = payments.get(o.orderId);
    const holdsMoney = p !== undefined && (p.status === 'APPROVED' || takenBy(p) > 0);
    if (o.status === 'COMPLETED') {
      if (r?.status !== 'COMMITTED')
        breaches.push({
          invariant: 4,
          orderId: o.orderId,
          message: `order ${o.orderId} is COMPLETED but its stock is ${r?.status ?? 'not reserved'}`,
        });
      // Returns refund part of it (issue 21): at least what the order recorded, never more than was paid.
      if (
        p?.status !== 'APPROVED' ||
        p.amount !== o.totalAmount ||
        p.refundedAmount < o.refundedAmount ||
        p.refundedAmount > p.amount
      )
        breaches.push({
          invariant: 4,
          orderId: o.orderId,
          message: `order ${o.orderId} is COMPLETED (total ${o.totalAmount}) but its payment is ${p ? `${p.status} ${p.amount} refunded ${p.refundedAmount}` : 'missing'}`,
        });
    } else if (o.status === 'CANCELLED' || o.status === 'COMPENSATED') {
      if (r && (r.status === 'RESERVED' || r.status === 'COMMITTED'))
        breaches.push({
          invariant: 4,
          orderId: o.orderId,
          message: `order ${o.orderId} is ${o.status} but still holds stock (${r.status})`,
        });
      if (holdsMoney)
        breaches.push({
          invariant: 4,
          orderId: o.orderId,
          message: `order ${o.orderId} is ${o.status} but still holds ${p!.amount - p!.refundedAmount} of ${o.customerId}'s money`,
        });
    }
  }
  for (const r of inv.reservations)
    if (!orders.has(r.orderId) && (r.status === 'RESERVED' || r.status === 'COMMITTED'))
      breaches.push({
        invariant: 5,
        orderId: r.orderId,
        message: `stock held (${r.status}) for order ${r.orderId}, which the order service does not know: a lost order`,
      });
  for (const p of pay.payments)
    if (!orders.has(p.orderId) && p.status === 'APPROVED')
      breaches.push({
        invariant: 5,
        orderId: p.orderId,
        customerId: p.customerId,
        message: `payment taken for order ${p.orderId}, which the order service does not know: a lost order`,
      });

  // Returns (issue 21): refunded ≤ paid, restocked ≤ sold, completed returns exact, failed ones moved no money.
  breaches.push(...auditReturns(order, inv, pay));

  // 5. No effect applied twice.
  for (const t of inv.repeatedMovements)
    breaches.push({
      invariant: 5,
      orderId: t.orderId,
      productId: t.productId,
      message: `stock movement ${t.kind} applied ${t.count} times for order ${t.orderId}, product ${t.productId}`,
    });
  for (const t of pay.repeatedMovements)
    breaches.push({
      invariant: 5,
      orderId: t.orderId,
      message: `money movement ${t.kind} applied ${t.count} times for order ${t.orderId}`,
    });
  for (const d of order.repeatedEvents)
    breaches.push({ invariant: 5, message: `stream ${d.streamId} has ${d.count} ${d.eventType} events` });
  for (const g of order.versionGaps)
    breaches.push({
      invariant: 5,
      message: `stream ${g.streamId} has ${g.count} events but reaches version ${g.lastVersion}`,
    });

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

/**
 * What a payment holds of its customer's money. One undone before it was requested (rollback first, ORDER_CREATED
 * late) records the order's amount but never took any money: it holds nothing.
 */
function takenBy(p: MoneyAuditFacts['payments'][number]): number {
  return p.status === 'APPROVED' || (p.status === 'REFUNDED' && p.reason !== 'UNDONE_BEFORE_REQUEST')
    ? p.amount - p.refundedAmount
    : 0;
}

export function formatAudit(r: AuditReport): string {
  const head = `audit ${r.checkedAt}: ${r.counts.orders} orders (${r.counts.final} final, ${r.counts.inFlight} in flight), ${r.counts.products} products, ${r.counts.customers} customers`;
  const lines = [head];
  for (const b of r.breaches) lines.push(`BREACH invariant ${b.invariant}: ${b.message}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  lines.push(r.ok ? 'OK: every invariant holds' : `${r.breaches.length} breach(es)`);
  return lines.join('\n');
}
