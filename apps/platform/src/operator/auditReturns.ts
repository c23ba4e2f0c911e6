/**
 * The audit's invariants of returns (issue 21), beside SPEC §9's in audit.ts: refunded ≤ paid per order, restocked ≤
 * sold per product per order, and each completed return restocked and refunded exactly (to the unit and the cent);
 * a failed return moved no money. The snapshots are read in saga order (order, inventory, payment), so what the order
 * recorded is visible in the later reads; a return still in flight may show in inventory or payment only.
 */
import type { StockAuditFacts } from '@commerce/inventory';
import type { OrderAuditFacts } from '@commerce/order';
import type { MoneyAuditFacts } from '@commerce/payment';

/** A breach of a return's invariant, in the audit's shape (audit.ts `Breach`). */
export interface ReturnBreach {
  invariant: 2 | 3 | 4;
  message: string;
  orderId?: string;
  productId?: string;
}

/** Units restocked by returns, per order and product (RESTOCKED answers only). */
export function restockedByOrder(inv: Pick<StockAuditFacts, 'returnRestocks'>): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const r of inv.returnRestocks) {
    if (r.status !== 'RESTOCKED') continue;
    const per = out.get(r.orderId) ?? new Map<string, number>();
    for (const i of r.items) per.set(i.productId, (per.get(i.productId) ?? 0) + i.quantity);
    out.set(r.orderId, per);
  }
  return out;
}

export function auditReturns(order: OrderAuditFacts, inv: StockAuditFacts, pay: MoneyAuditFacts): ReturnBreach[] {
  const breaches: ReturnBreach[] = [];
  const restocked = restockedByOrder(inv);
  const reservations = new Map(inv.reservations.map((r) => [r.orderId, r]));
  const payments = new Map(pay.payments.map((p) => [p.orderId, p]));
  const restocks = new Map(inv.returnRestocks.map((r) => [`${r.orderId}/${r.returnId}`, r]));
  const refunds = new Map(pay.returnRefunds.map((r) => [`${r.orderId}/${r.returnId}`, r]));

  // Restocked ≤ sold, per product per order.
  for (const [orderId, per] of restocked) {
    const r = reservations.get(orderId);
    const sold = new Map<string, number>();
    if (r?.status === 'COMMITTED')
      for (const l of r.lines) sold.set(l.productId, (sold.get(l.productId) ?? 0) + l.quantity);
    for (const [productId, q] of per)
      if (q > (sold.get(productId) ?? 0))
        breaches.push({
          invariant: 2,
          orderId,
          productId,
          message: `order ${orderId}: ${q} units of ${productId} restocked by returns, but ${sold.get(productId) ?? 0} sold`,
        });
  }

  // Refunded ≤ paid per order, and the refunds of returns are what the payment says it gave back.
  const refundedByOrder = new Map<string, number>();
  for (const r of pay.returnRefunds)
    if (r.status === 'REFUNDED') refundedByOrder.set(r.orderId, (refundedByOrder.get(r.orderId) ?? 0) + r.amount);
  for (const [orderId, refunded] of refundedByOrder) {
    const p = payments.get(orderId);
    if (p?.status !== 'APPROVED' || refunded !== p.refundedAmount || p.refundedAmount > p.amount)
      breaches.push({
        invariant: 3,
        orderId,
        message: `order ${orderId}: returns refunded ${refunded}, but its payment is ${p ? `${p.status} ${p.amount} refunded ${p.refundedAmount}` : 'missing'}`,
      });
  }

  // Each return the order recorded: completed ones restocked and refunded exactly; failed ones refunded nothing.
  for (const { orderId, returns } of order.returns) {
    for (const ret of returns) {
      const key = `${orderId}/${ret.returnId}`;
      const stock = restocks.get(key);
      const money = refunds.get(key);
      const units = (items: readonly { productId: string; quantity: number }[]) =>
        items
          .map((i) => `${i.productId}×${i.quantity}`)
          .sort()
          .join(',');
      if (ret.status === 'COMPLETED') {
        if (stock?.status !== 'RESTOCKED' || units(stock.items) !== units(ret.items))
          breaches.push({
            invariant: 4,
            orderId,
            message: `return ${ret.returnId} of order ${orderId} is COMPLETED (${units(ret.items)}) but inventory restocked ${stock ? `${stock.status} ${units(stock.items)}` : 'nothing'}`,
          });
        if (money?.status !== 'REFUNDED' || money.amount !== ret.amount)
          breaches.push({
            invariant: 4,
            orderId,
            message: `return ${ret.returnId} of order ${orderId} is COMPLETED (amount ${ret.amount}) but payment refunded ${money ? `${money.status} ${money.amount}` : 'nothing'}`,
          });
      } else if (ret.status === 'FAILED' && ret.restocked !== true && money?.status === 'REFUNDED')
        breaches.push({
          invariant: 4,
          orderId,
          message: `return ${ret.returnId} of order ${orderId} FAILED before its restock, yet payment refunded ${money.amount}`,
        });
    }
  }
  return breaches;
}

/** Units of a COMPLETED order still sold: its committed lines less what its returns restocked. */
export function soldAfterReturns(
  lines: readonly { productId: string; quantity: number }[],
  restockedOfOrder: ReadonlyMap<string, number> | undefined,
): { productId: string; quantity: number }[] {
  return lines.map((l) => ({
    productId: l.productId,
    quantity: l.quantity - (restockedOfOrder?.get(l.productId) ?? 0),
  }));
}
