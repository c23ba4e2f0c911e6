/**
 * Probes the machine once per run and prints one line per missing piece: the suites that need it are skipped, or,
 * with REQUIRE_SERVICES=1 (CI), fail naming it. The forks read the result from the
 * environment instead of probing again.
 */
import { describeMissing, MISSING_ENV, missingPieces } from './pieces.js';

export default async function setup(): Promise<void> {
  const required = process.env.REQUIRE_SERVICES === '1';
  const missing = await missingPieces();
  process.env[MISSING_ENV] = JSON.stringify(missing);
  // Under REQUIRE_SERVICES=1 every suite that needs a missing piece fails with this line (describeWith).
  for (const piece of missing) console.warn(describeMissing(piece, required));
}
