import type { StockAuditFacts } from '@commerce/inventory';
import type { OrderAuditFacts, OrderReturn } from '@commerce/order';
import type { MoneyAuditFacts } from '@commerce/payment';
import { describe, expect, it } from 'vitest';
import { auditReturns, soldAfterReturns } from './auditReturns.js';

const O = '0b9b7a3e-2f0c-4d7e-9a38-1c2d3e4f5a6b';
const R1 = '11111111-2222-4333-8444-555555555555';
const at = '2026-03-01T10:00:00.000Z';
const ret = (over: Partial<OrderReturn> = {}): OrderReturn => ({
  returnId: R1,
  items: [{ productId: 'p-1', quantity: 1, unitPrice: 1250 }],
  amount: 1250,
  reason: null,
  status: 'COMPLETED',
  restocked: true,
  refunded: true,
  refundRequested: true,
  reasons: [],
  requestedAt: at,
  updatedAt: at,
  ...over,
});

/** One COMPLETED order of 2 × p-1 at 1250 with one completed return of 1 unit, consistent in all three services. */
function facts() {
  const order = { orders: [], repeatedEvents: [], versionGaps: [], returns: [{ orderId: O, returns: [ret()] }] };
  const inv = {
    products: [],
    movementTotals: [],
    reservations: [{ orderId: O, status: 'COMMITTED', lines: [{ productId: 'p-1', quantity: 2, unitPrice: 1250 }] }],
    repeatedMovements: [],
    returnRestocks: [
      { orderId: O, returnId: R1, status: 'RESTOCKED', items: [{ productId: 'p-1', quantity: 1, unitPrice: 1250 }] },
    ],
  };
  const pay = {
    accounts: [],
    movementTotals: [],
    payments: [{ orderId: O, customerId: 'c-1', amount: 2500, refundedAmount: 1250, status: 'APPROVED', reason: null }],
    repeatedMovements: [],
    returnRefunds: [{ orderId: O, returnId: R1, status: 'REFUNDED', amount: 1250 }],
  };
  return {
    order: order as unknown as OrderAuditFacts,
    inv: inv as unknown as StockAuditFacts,
    pay: pay as unknown as MoneyAuditFacts,
  };
}

describe('audit: the invariants of returns', () => {
  it('a consistent return is no breach', () => {
    const f = facts();
    expect(auditReturns(f.order, f.inv, f.pay)).toEqual([]);
  });

  it('restocked more than sold to the order (per product) is a breach of 2', () => {
    const f = facts();
    f.inv.returnRestocks.push({
      orderId: O,
      returnId: '11111111-2222-4333-8444-666666666666',
      status: 'RESTOCKED',
      items: [{ productId: 'p-1', quantity: 2, unitPrice: 1250 }],
    });
    expect(auditReturns(f.order, f.inv, f.pay)).toEqual([
      expect.objectContaining({ invariant: 2, orderId: O, productId: 'p-1' }),
    ]);
  });

  it('refunded more than paid, or refunds that are not what the payment says, is a breach of 3', () => {
    const f = facts();
    f.pay.returnRefunds.push({ orderId: O, returnId: 'x', status: 'REFUNDED', amount: 1251 });
    f.pay.payments[0]!.refundedAmount = 2501;
    expect(auditReturns(f.order, f.inv, f.pay)).toEqual([expect.objectContaining({ invariant: 3, orderId: O })]);
    const g = facts();
    g.pay.payments[0]!.refundedAmount = 1000;
    expect(auditReturns(g.order, g.inv, g.pay)).toEqual([expect.objectContaining({ invariant: 3, orderId: O })]);
  });

  it('a completed return not restocked or not refunded exactly is a breach of 4 (to the unit and the cent)', () => {
    const f = facts();
    f.inv.returnRestocks[0]!.items = [{ productId: 'p-1', quantity: 2, unitPrice: 1250 }];
    f.pay.returnRefunds[0]!.amount = 1249;
    f.pay.payments[0]!.refundedAmount = 1249;
    const breaches = auditReturns(f.order, f.inv, f.pay);
    expect(breaches.filter((b) => b.invariant === 4)).toHaveLength(2);
  });

  it('a return that failed before its restock yet refunded money is a breach of 4', () => {
    const f = facts();
    f.order.returns[0]!.returns[0] = ret({ status: 'FAILED', restocked: false, refunded: null });
    f.inv.returnRestocks = [];
    expect(auditReturns(f.order, f.inv, f.pay)).toEqual([
      expect.objectContaining({ invariant: 4, message: expect.stringContaining('FAILED before its restock') }),
    ]);
  });

  it('units a return restocked are no longer sold', () => {
    expect(
      soldAfterReturns(
        [
          { productId: 'p-1', quantity: 2 },
          { productId: 'p-2', quantity: 1 },
        ],
        new Map([['p-1', 1]]),
      ),
    ).toEqual([
      { productId: 'p-1', quantity: 1 },
      { productId: 'p-2', quantity: 1 },
    ]);
  });
});
