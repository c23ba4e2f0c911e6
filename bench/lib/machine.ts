import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import pg from 'pg';
import { PG_ADMIN_URL, RABBIT_API } from '../../test/support/services.js';

export interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  pgbench: string;
  rabbitmq: string;
  redis: string;
  date: string;
  /** 1-minute load average at the start and end of the run: other work on the machine skews every figure. */
  loadAverage: { start: number; end?: number };
}

/** What the figures were measured on: they mean little without it. */
export async function describeMachine(): Promise<Machine> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  const v = await c.query<{ server_version: string }>('SHOW server_version');
  await c.end();
  let rabbitmq = 'unknown';
  try {
    const u = new URL(`${RABBIT_API}/overview`);
    const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
    u.username = '';
    u.password = '';
    const res = await fetch(u, { headers: { authorization: `Basic ${auth}` } });
    rabbitmq = ((await res.json()) as { rabbitmq_version?: string }).rabbitmq_version ?? 'unknown';
  } catch {}
  let redis = 'unknown';
  try {
    const info = execFileSync('redis-cli', ['INFO', 'server'], { encoding: 'utf8' });
    redis = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch {}
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: v.rows[0]?.server_version ?? 'unknown',
    pgbench: execFileSync('pgbench', ['--version'], { encoding: 'utf8' }).trim(),
    rabbitmq,
    redis,
    date: new Date().toISOString(),
    loadAverage: { start: Math.round(loadavg()[0]! * 100) / 100 },
  };
}
