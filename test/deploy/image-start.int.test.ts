/**
 * The image's start command, run here without Docker: `node apps/platform/dist/main.js order` (what the
 * Dockerfile's ENTRYPOINT + CMD execute) with the environment compose gives the order container, rewritten
 * to point at this machine's PostgreSQL (a database that does not exist yet), a fresh RabbitMQ vhost, the
 * local Redis and a free port. It must become ready, pass the image's own health probe, and exit cleanly on
 * SIGTERM (what `docker stop` and ECS send).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, describeWith, freshDatabaseUrl, REDIS_URL, waitFor } from '../support/services.js';
import { containerEnv, DEPLOY, loadCompose, ROOT } from './composeEnv.js';

const DIST_MAIN = join(ROOT, 'apps/platform/dist/main.js');
const HEALTHCHECK = join(DEPLOY, 'healthcheck.mjs');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The image runs the built launcher, so this builds it like the Dockerfile does (`tsc -b`: incremental, quick
 * when `npm test` has just built; a stale dist/ would test old code).
 */
function startCommand(): string[] {
  try {
    execFileSync('npx', ['tsc', '-b'], { cwd: ROOT, stdio: 'pipe', timeout: 240_000 });
  } catch (err) {
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run build (tsc -b) fails, so the image would not build either:\n${e.stdout}${e.stderr}`);
  }
  if (!existsSync(DIST_MAIN)) throw new Error(`${DIST_MAIN} missing after tsc -b`);
  return [DIST_MAIN, 'order'];
}

function probe(port: number): number {
  try {
    execFileSync(process.execPath, [HEALTHCHECK, 'order'], {
      env: { PATH: process.env.PATH, ORDER_PORT: String(port) },
      stdio: 'pipe',
      timeout: 10_000,
    });
    return 0;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}

describeWith(['postgres', 'rabbitmq', 'redis'], 'image start command (order, compose environment)', () => {
  let child: ChildProcess | undefined;
  let output = '';
  let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let port = 0;
  const db = freshDatabaseUrl('deploy');
  let vhost: Awaited<ReturnType<typeof createTestVhost>>;

  beforeAll(async () => {
    vhost = await createTestVhost('deploy');
    port = await freePort();
    const env = {
      ...containerEnv(loadCompose(), 'order'),
      ORDER_DATABASE_URL: db.url,
      AMQP_URL: vhost.url,
      REDIS_URL,
      ORDER_PORT: String(port),
      LOG_LEVEL: 'warn',
    };
    child = spawn(process.execPath, startCommand(), {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d) => {
      output += d;
    });
    child.stderr?.on('data', (d) => {
      output += d;
    });
    exit = new Promise((resolve) => child?.once('exit', (code, signal) => resolve({ code, signal })));
  }, 300_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exit;
    }
    await vhost?.drop();
    await db.drop();
  });

  it('becomes ready, passes the image health probe, and exits 0 on SIGTERM', async () => {
    expect(probe(port), 'the probe must fail while nothing listens').toBe(1);
    const outcome = await waitFor(
      async () => {
        if (child?.exitCode !== null || child.signalCode !== null) return 'exited';
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return res.status === 200 ? 'ready' : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 200, what: `GET /health/ready = 200 on ${port}` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- service output ---\n${output}`);
    });
    expect(outcome, `the service exited before it was ready:\n${output}`).toBe('ready');
    expect(probe(port)).toBe(0);

    // It really started against PostgreSQL: the database was created and migrated at start.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const tables = await client.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ANY($1)",
      [['events', 'outbox', 'inbox']],
    );
    await client.end();
    expect(Number(tables.rows[0]?.n)).toBe(3);

    child?.kill('SIGTERM');
    const result = await Promise.race([
      exit,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no exit within 30 s of SIGTERM:\n${output}`)), 30_000),
      ),
    ]);
    expect(result, output).toEqual({ code: 0, signal: null });
    expect(probe(port), 'the probe must fail once the service stopped').toBe(1);
  });
});
