/**
 * The fault harness's mix with the risk review (issue 21) on the fault platform, without a fault: not disruptive
 * (its own databases, vhost and processes; it stops nothing shared), so it runs with the ordinary suite and covers
 * the harness's review kinds between runs of the fault suite (faults.disruptive.test.ts, which uses the same mix in
 * every scenario). Every accepted order ends final, approved reviews complete, the others never do, the audit is
 * clean and no effect is applied twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/services.js';
import {
  commerceAudit,
  duplicateEffects,
  type FaultPlatform,
  MAY_COMPLETE,
  orderStatuses,
  settle,
  startFaultPlatform,
  withLoad,
} from './harness.js';

describeWith(['postgres', 'rabbitmq', 'redis'], 'fault harness mix with reviews (no fault)', () => {
  let p: FaultPlatform;
  beforeAll(async () => {
    p = await startFaultPlatform();
  }, 300_000);
  afterAll(async () => {
    await p?.stop();
  });

  it('held orders are approved or time out, rejected ones are cancelled; 0 breaches', {
    timeout: 300_000,
  }, async () => {
    // 13 kinds in turn at 15/s for 4 s: each review kind comes up about 4 times.
    const load = await withLoad(p, 4_000, async () => {});
    const ids = [...load.accepted.keys()];
    expect(load.figures.rejected).toEqual([]);
    expect(load.figures.byKind['review-approved']).toBeGreaterThan(0);
    expect(load.figures.byKind['review-left']).toBeGreaterThan(0);
    expect(load.figures.byKind['risk-rejected']).toBeGreaterThan(0);
    await settle(p, ids);
    const statuses = await orderStatuses(p, ids);
    for (const [id, kind] of load.accepted) {
      const status = statuses.get(id);
      if (!MAY_COMPLETE.has(kind)) expect(status, `${kind} order ${id}`).not.toBe('COMPLETED');
      // Approved as soon as it is held; only a machine slower than REVIEW_TIMEOUT_MS would see it rejected first.
      if (kind === 'review-approved') expect(['COMPLETED', 'COMPENSATED'], `approved review ${id}`).toContain(status);
      if (kind === 'review-left' || kind === 'risk-rejected') expect(status, `${kind} ${id}`).toBe('COMPENSATED');
    }
    const approvedDone = [...load.accepted].filter(
      ([id, k]) => k === 'review-approved' && statuses.get(id) === 'COMPLETED',
    );
    expect(approvedDone.length, 'approved reviews that completed').toBeGreaterThan(0);
    const audit = await commerceAudit(p);
    expect(audit.report.breaches).toEqual([]);
    expect(audit.exitCode, audit.stderr).toBe(0);
    expect(await duplicateEffects(p)).toEqual([]);
    expect(p.crashes).toEqual([]);
  });
});
