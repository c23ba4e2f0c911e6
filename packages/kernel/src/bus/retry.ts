/** Retry timing shared by both bus adapters (docs/messaging.md "Retries"). */

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_BACKOFF_MS = 100;
const GROWTH = 4;

/**
 * Delay before the attempt after `failedAttempt` (1-based): base × 4^(failedAttempt-1), with "equal
 * jitter" (half fixed, half random) so that many consumers failing together do not retry in lockstep.
 */
export function backoffDelay(failedAttempt: number, baseMs: number, random: () => number = Math.random): number {
  const full = baseMs * GROWTH ** Math.max(0, failedAttempt - 1);
  return Math.round(full / 2 + random() * (full / 2));
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  try {
    return typeof err === 'string' ? err : JSON.stringify(err);
  } catch {
    return String(err);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Longest pause between two tries while a dependency (the service's database) is unavailable. */
export const OUTAGE_BACKOFF_CAP_MS = 5000;

/** The pause before the next try during an outage: grows like the attempts' backoff, capped. */
export function outageDelay(outages: number, baseMs: number): number {
  return Math.min(OUTAGE_BACKOFF_CAP_MS, backoffDelay(outages, baseMs));
}
