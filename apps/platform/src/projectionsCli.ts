/**
 * `commerce projections list|rebuild NAME`: with ORDER_DATABASE_URL set the CLI reads the checkpoints and runs the
 * rebuild itself (kernel rebuildProjection; killed, the next run resumes it); otherwise it asks the running
 * platform's admin API, which runs the rebuild in its process, and follows its progress there.
 */
import { type Database, type RebuildProgress, rebuildProjection } from '@commerce/kernel';
import {
  listProjections,
  PROJECTION_NAMES,
  type ProjectionListing,
  projectionNamed,
  type RebuildState,
} from './operator/projectionRebuilds.js';

export interface ProjectionsCliDeps {
  json: boolean;
  /** The order database's URL, when the CLI may open it itself. */
  orderDbUrl?: string;
  withDb<T>(url: string, fn: (db: Database) => Promise<T>): Promise<T>;
  /** The admin API of the running platform. */
  api(method: string, path: string): Promise<unknown>;
  usage(message: string): Error;
  out: NodeJS.WriteStream;
  /** Between two looks at a rebuild run by the platform (default 500 ms). */
  pollMs?: number;
}

export const PROJECTIONS_HELP = `commerce projections list [--json]        every projection: checkpoint, lag (events, seconds), state
commerce projections rebuild NAME [--json] rebuild NAME (${PROJECTION_NAMES.join(', ')}) from position 0 into shadow
  tables while the live one serves, then swap atomically; a progress bar on a terminal, JSON lines with --json;
  interrupted, the next run resumes it`;

function formatList(list: ProjectionListing[]): string {
  const rows = list.map((p) => {
    const s = p.status;
    const rebuild = p.rebuild?.running
      ? ` rebuilding ${p.rebuild.progress?.handled ?? 0}/${p.rebuild.progress?.total ?? '?'}`
      : '';
    if (p.inline) return `${p.name.padEnd(18)} inline   written with its events (lag 0)${rebuild}`;
    if (!s) return `${p.name.padEnd(18)} never started${rebuild}`;
    return `${p.name.padEnd(18)} ${s.state.padEnd(8)} checkpoint=${s.position.txId}/${s.position.globalPosition} handled=${s.handled} lag=${s.lagEvents} events, ${s.lagSeconds} s parked=${s.parked}${s.owner ? ` owner=${s.owner}` : ''}${s.lastError ? ` error=${JSON.stringify(s.lastError)}` : ''}${rebuild}`;
  });
  return rows.join('\n');
}

/** "[#########-----------]  45%  12345/27000 events  3400 ev/s  ETA 4 s" */
export function progressLine(p: RebuildProgress, width = 30): string {
  const share = p.total > 0 ? Math.min(1, p.handled / p.total) : 1;
  const filled = Math.round(share * width);
  const eta = p.phase === 'swapped' ? 'swapped' : p.etaSeconds === null ? 'ETA ?' : `ETA ${p.etaSeconds} s`;
  return `${p.projection} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%  ${p.handled}/${p.total} events  ${p.eventsPerSecond} ev/s  ${eta}`;
}

function reporter(d: ProjectionsCliDeps): (p: RebuildProgress) => void {
  const tty = d.out.isTTY === true && !d.json;
  let lastLine = 0;
  return (p) => {
    if (d.json) d.out.write(`${JSON.stringify(p)}\n`);
    else if (tty) d.out.write(`\r${progressLine(p)}${p.phase === 'swapped' ? '\n' : ''}`);
    else if (p.phase === 'swapped' || Date.now() - lastLine >= 5000) {
      // Not a terminal (a log, a pipe): a line now and then, not a redraw per tick.
      lastLine = Date.now();
      d.out.write(`${progressLine(p)}\n`);
    }
  };
}

export async function runProjectionsCli(rest: string[], d: ProjectionsCliDeps): Promise<number> {
  const [action, name] = rest;
  if (action === 'list') {
    const list = d.orderDbUrl
      ? await d.withDb(d.orderDbUrl, (db) => listProjections(db))
      : ((await d.api('GET', '/admin/projections')) as { projections: ProjectionListing[] }).projections;
    d.out.write(d.json ? `${JSON.stringify({ projections: list }, null, 2)}\n` : `${formatList(list)}\n`);
    return 0;
  }
  if (action !== 'rebuild') throw d.usage(`projections: expected list or rebuild\n${PROJECTIONS_HELP}`);
  const projection = name ? projectionNamed(name) : undefined;
  if (!projection)
    throw d.usage(
      `projections rebuild: NAME must be one of ${PROJECTION_NAMES.join(', ')}, got ${JSON.stringify(name ?? '')}`,
    );
  const report = reporter(d);
  if (d.orderDbUrl) {
    await d.withDb(d.orderDbUrl, (db) => rebuildProjection(db, projection, { onProgress: report }));
    return 0;
  }
  await d.api('POST', `/admin/projections/${projection.name}/rebuild`);
  for (;;) {
    const list = ((await d.api('GET', '/admin/projections')) as { projections: ProjectionListing[] }).projections;
    const state: RebuildState | null | undefined = list.find((p) => p.name === projection.name)?.rebuild;
    if (state?.progress) report(state.progress);
    if (state?.error) throw new Error(`rebuild of ${projection.name} failed: ${state.error}`);
    if (state && !state.running && state.progress?.phase === 'swapped') return 0;
    await new Promise((r) => setTimeout(r, d.pollMs ?? 500));
  }
}
