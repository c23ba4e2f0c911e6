/**
 * `commerce archive --older-than 90d [--json]`: moves the event streams of orders final for that long into the
 * archive (services/order adapters/archive.ts). With ORDER_DATABASE_URL the CLI does it itself, with a progress bar
 * on a terminal and JSON lines with --json; otherwise the running platform does it (`POST /admin/archive`) and the CLI
 * prints the outcome. Killed, the next run goes on from the last batch committed.
 */
import type { Database } from '@commerce/kernel';
import { type ArchiveProgress, archiveFinalOrders } from '@commerce/order';

export const ARCHIVE_HELP = `commerce archive --older-than DURATION [--json]   DURATION: 90d, 12h, 30m or 45s
  moves the event streams of orders final for longer than DURATION into the archive table, in batches, resumably;
  the orders still answer GET /orders/{id} and /events, and subscriptions and rebuilds still read their events`;

const UNIT_MS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** "90d" → milliseconds; undefined when it is not a duration. */
export function parseDuration(text: string | undefined): number | undefined {
  const m = /^(\d{1,6})(d|h|m|s)$/.exec(text ?? '');
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : undefined;
}

export function archiveLine(p: ArchiveProgress, width = 30): string {
  const share = p.total > 0 ? Math.min(1, p.orders / p.total) : 1;
  const filled = Math.round(share * width);
  const eta = p.done ? 'done' : p.etaSeconds === null ? 'ETA ?' : `ETA ${p.etaSeconds} s`;
  return `archive [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%  ${p.orders}/${p.total} orders  ${p.events} events  ${p.ordersPerSecond} orders/s  ${eta}`;
}

export interface ArchiveCliDeps {
  olderThan?: string;
  json: boolean;
  orderDbUrl?: string;
  withDb<T>(url: string, fn: (db: Database) => Promise<T>): Promise<T>;
  api(method: string, path: string, body: unknown): Promise<unknown>;
  usage(message: string): Error;
  out: NodeJS.WriteStream;
}

export async function runArchiveCli(d: ArchiveCliDeps): Promise<number> {
  const olderThanMs = parseDuration(d.olderThan);
  if (olderThanMs === undefined)
    throw d.usage(`archive: --older-than must be a duration like 90d, 12h, 30m or 45s\n${ARCHIVE_HELP}`);
  const tty = d.out.isTTY === true && !d.json;
  const report = (p: ArchiveProgress) => {
    if (d.json) d.out.write(`${JSON.stringify(p)}\n`);
    else if (tty) d.out.write(`\r${archiveLine(p)}${p.done ? '\n' : ''}`);
    else if (p.done) d.out.write(`${archiveLine(p)}\n`);
  };
  if (d.orderDbUrl) {
    await d.withDb(d.orderDbUrl, (db) => archiveFinalOrders(db, { olderThanMs, onProgress: report }));
    return 0;
  }
  report((await d.api('POST', '/admin/archive', { olderThanMs })) as ArchiveProgress);
  return 0;
}
