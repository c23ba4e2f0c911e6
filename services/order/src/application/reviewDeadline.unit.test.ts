import { describe, expect, it } from 'vitest';
import { initialState, type OrderState } from '../domain/index.js';
import type { OrderDeps } from './ports.js';
import { reviewDeadlineWrites } from './reviewDeadline.js';

const now = new Date('2026-03-01T10:00:00.000Z');
const due = '2026-03-02T10:00:00.000Z';
const deps = {
  sagaTimeoutMs: 30_000,
  store: {
    setDeadline: (orderId: string, kind: string, dueAt: Date) => ({ sql: 'set', params: [orderId, kind, dueAt] }),
    clearDeadline: (orderId: string, kind: string) => ({ sql: 'clear', params: [orderId, kind] }),
  },
} as unknown as OrderDeps;
const at = (status: OrderState['status'], decision: 'PENDING' | 'APPROVED' | 'REJECTED' = 'PENDING'): OrderState => ({
  ...initialState(),
  status,
  review: { decision, score: 60, reasons: ['RISK_AMOUNT'], dueAt: due },
});

describe('the review moves the order’s one deadline', () => {
  it('entering UNDER_REVIEW puts it at the review’s due time (REVIEW_TIMEOUT_MS, not SAGA_TIMEOUT_MS)', () => {
    expect(reviewDeadlineWrites(deps, 'o', at('PENDING'), at('UNDER_REVIEW'), now)).toEqual([
      { sql: 'set', params: ['o', 'saga', new Date(due)] },
    ]);
  });
  it('an approval gives the capture a fresh saga timeout', () => {
    expect(reviewDeadlineWrites(deps, 'o', at('UNDER_REVIEW'), at('PENDING', 'APPROVED'), now)).toEqual([
      { sql: 'set', params: ['o', 'saga', new Date(now.getTime() + 30_000)] },
    ]);
  });
  it('a rejection or a cancellation clears it; other changes leave it alone', () => {
    expect(reviewDeadlineWrites(deps, 'o', at('UNDER_REVIEW'), at('COMPENSATION_PENDING', 'REJECTED'), now)).toEqual([
      { sql: 'clear', params: ['o', 'saga'] },
    ]);
    expect(reviewDeadlineWrites(deps, 'o', at('UNDER_REVIEW'), at('UNDER_REVIEW'), now)).toEqual([]);
    expect(reviewDeadlineWrites(deps, 'o', at('PENDING'), at('CONFIRMED'), now)).toEqual([]);
  });
});
