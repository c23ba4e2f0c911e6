/**
 * Probes the machine once per run and prints one line per missing piece: the suites that need it are skipped, or,
 * with REQUIRE_SERVICES=1 (CI), fail naming it. The forks read the result from the
 * environment instead of probing again.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApiDocuments } from '../../apps/platform/src/apiDocs.js';
import { describeMissing, MISSING_ENV, missingPieces } from './pieces.js';
import { CHECK_DIR_ENV, DOCUMENTS_FILE, readExchanges } from './responseCheck.js';

export default async function setup(): Promise<() => void> {
  // The response check (responseCheck.ts): the documents every process validates its answers against.
  mkdirSync(tmpdir(), { recursive: true });
  const checkDir = mkdtempSync(join(tmpdir(), 'commerce-openapi-check-'));
  writeFileSync(join(checkDir, DOCUMENTS_FILE), JSON.stringify(await buildApiDocuments()));
  process.env[CHECK_DIR_ENV] = checkDir;

  const required = process.env.REQUIRE_SERVICES === '1';
  const missing = await missingPieces();
  process.env[MISSING_ENV] = JSON.stringify(missing);
  // Under REQUIRE_SERVICES=1 every suite that needs a missing piece fails with this line (describeWith).
  for (const piece of missing) console.warn(describeMissing(piece, required));
  return () => reportExchanges(checkDir);
}

/** Prints how many answers were validated against the documents; fails the run if any was not as documented. */
function reportExchanges(dir: string): void {
  const exchanges = readExchanges(dir);
  const bad = exchanges.filter((e) => e.problems.length > 0);
  const services = new Set(exchanges.map((e) => e.service));
  console.log(
    `OpenAPI response check: ${exchanges.length} exchanges validated against the documents of ` +
      `${[...services].sort().join(', ') || 'no service'}; ${bad.length} not as documented`,
  );
  rmSync(dir, { recursive: true, force: true });
  if (bad.length === 0) return;
  const lines = bad
    .slice(0, 20)
    .map((e) => `  ${e.service} ${e.method} ${e.path} → ${e.status}: ${e.problems.slice(0, 3).join('; ')}`);
  throw new Error(`answers that the OpenAPI documents do not describe:\n${lines.join('\n')}`);
}
