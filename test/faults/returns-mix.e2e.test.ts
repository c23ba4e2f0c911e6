/**
 * The fault suite's load with returns in its mix (issue 21), checked without a disruptive fault so that it runs beside
 * other work: the harness's load generator (returnsMix.ts asks returns of COMPLETED orders, partial ones and whole
 * orders in two concurrent requests), then every return message captured on the wire delivered again (duplicates,
 * late and out of order), then the suite's checks: settle (orders final, no return REQUESTED), `commerce audit`,
 * effects counted straight from the ledgers. The disruptive scenarios (faults.disruptive.test.ts) run the same load.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { metricTotal } from '../support/metrics.js';
import { describeWith, waitFor } from '../support/services.js';
import {
  commerceAudit,
  duplicateEffects,
  type FaultPlatform,
  LOAD_MS,
  orderStatuses,
  pgQuery,
  settle,
  startFaultPlatform,
  WireTap,
  withLoad,
} from './harness.js';

/** Deliveries the inboxes absorbed so far, over every service process (commerce_inbox_duplicates_total). */
async function inboxDuplicates(p: FaultPlatform): Promise<number> {
  const urls = [...p.orderUrls(), p.urlOf('inventory'), p.urlOf('payment')];
  const totals = await Promise.all(
    urls.map(
      async (u) => metricTotal(await (await fetch(`${u}/metrics`)).text(), 'commerce_inbox_duplicates_total') ?? 0,
    ),
  );
  return totals.reduce((a, b) => a + b, 0);
}

const RETURN_TYPES = [
  'ORDER_RETURN_REQUESTED',
  'INVENTORY_RETURN_RESTOCKED',
  'ORDER_RETURN_REFUND_REQUESTED',
  'PAYMENT_PARTIALLY_REFUNDED',
];

describeWith(['postgres', 'rabbitmq', 'redis'], 'fault suite load with returns in the mix', () => {
  let p: FaultPlatform;
  let tap: WireTap;
  beforeAll(async () => {
    p = await startFaultPlatform();
    tap = await WireTap.open(p.vhost.url);
  }, 240_000);
  afterAll(async () => {
    await tap?.close();
    await p?.stop();
  }, 120_000);

  it('returns complete under load and redelivery: 0 breaches, 0 effects applied twice', {
    timeout: 300_000,
  }, async () => {
    const load = await withLoad(p, LOAD_MS, async () => {});
    const ids = [...load.accepted.keys()];
    await settle(p, ids);
    const r = load.figures.returns;
    expect(r.accepted, JSON.stringify(r)).toBeGreaterThan(0);
    expect(r.gaveUp, JSON.stringify(r)).toBe(0);
    expect(load.figures.rejected).toEqual([]);

    // Every return message seen on the wire, delivered again in reverse order (duplicates, late, out of order).
    const captured = (await tap.drain()).filter((m) => RETURN_TYPES.includes(String(m.properties.type)));
    expect(captured.length).toBeGreaterThan(0);
    const absorbedBefore = await inboxDuplicates(p);
    for (const m of captured.reverse()) await tap.republish(m);
    // Each copy reaches one consumer (inventory, payment or the saga), whose inbox absorbs it.
    await waitFor(async () => (await inboxDuplicates(p)) - absorbedBefore >= captured.length, {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `the inboxes to absorb ${captured.length} redelivered return messages`,
    });
    await settle(p, ids);

    const returns = await pgQuery(
      p.dbs.order.url,
      `SELECT r->>'returnId' AS return_id, r->>'status' AS status FROM orders o, jsonb_array_elements(o.returns) AS r
        WHERE o.order_id::text = ANY($1::text[])`,
      [ids],
    );
    const status = new Map(returns.map((x) => [x.return_id as string, x.status as string]));
    for (const returnId of load.acceptedReturns.keys()) expect(status.get(returnId), returnId).toBe('COMPLETED');
    const returned = await pgQuery(
      p.dbs.order.url,
      `SELECT count(*)::int AS n FROM orders WHERE order_id::text = ANY($1::text[]) AND returns @> '[{"status":"COMPLETED"}]'`,
      [ids],
    );
    expect(Number(returned[0]?.n)).toBeGreaterThan(0);

    const audit = await commerceAudit(p);
    expect(audit.report.breaches, JSON.stringify(audit.report.breaches.slice(0, 10))).toEqual([]);
    expect(audit.exitCode, audit.stderr).toBe(0);
    expect(await duplicateEffects(p)).toEqual([]);
    const byStatus: Record<string, number> = {};
    for (const st of (await orderStatuses(p, ids)).values()) byStatus[st] = (byStatus[st] ?? 0) + 1;
    console.log(
      `returns mix: ${ids.length} orders ${JSON.stringify(byStatus)}, returns ${JSON.stringify(r)}, ${captured.length} return messages redelivered, audit ok`,
    );
  });
});
