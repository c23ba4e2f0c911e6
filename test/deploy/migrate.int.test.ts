/**
 * deploy/migrate.mjs, the release's one-off migration task (docs/deployment.md, "Releases"), run as the image runs
 * it (`node deploy/migrate.mjs <service>` against the built packages, after `tsc -b`): it creates and migrates a
 * service's database that does not exist yet, exits 0, and a second run (a retried release, or the tasks' own start)
 * changes nothing. A missing URL names the setting and exits 2.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, freshDatabaseUrl } from '../support/services.js';
import { DEPLOY, ROOT } from './composeEnv.js';

const MIGRATE = join(DEPLOY, 'migrate.mjs');

function run(args: string[], env: Record<string, string>) {
  return spawnSync(process.execPath, [MIGRATE, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

async function publicTables(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const tables = await c.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    return tables.rows.map((r) => r.table_name);
  } finally {
    await c.end();
  }
}

describeWith(['postgres'], 'deploy/migrate.mjs (the one-off migration task)', () => {
  const dbs = ['order', 'inventory', 'payment'].map((s) => ({ service: s, db: freshDatabaseUrl(`mig_${s}`) }));

  beforeAll(() => {
    execFileSync('npx', ['tsc', '-b'], { cwd: ROOT, stdio: 'pipe', timeout: 240_000 });
  }, 300_000);
  afterAll(async () => {
    for (const { db } of dbs) await db.drop();
  });

  it('creates and migrates each service database, and a second run changes nothing', async () => {
    for (const { service, db } of dbs) {
      const setting = `${service.toUpperCase()}_DATABASE_URL`;
      const first = run([service], { [setting]: db.url });
      expect(first.status, `${service}: ${first.stderr}`).toBe(0);
      const tables = await publicTables(db.url);
      // The kernel's tables (outbox, inbox) and the service's own.
      expect(tables).toEqual(expect.arrayContaining(['outbox']));
      expect(tables.length, `${service}: ${tables.join(', ')}`).toBeGreaterThan(3);
      const second = run([service], { [setting]: db.url });
      expect(second.status, `${service} second run: ${second.stderr}`).toBe(0);
      expect(await publicTables(db.url)).toEqual(tables);
    }
  }, 120_000);

  it('names the missing setting, and refuses an unknown service', () => {
    const noUrl = run(['payment'], {});
    expect(noUrl.status).toBe(2);
    expect(noUrl.stderr).toContain('PAYMENT_DATABASE_URL is not set');
    const bad = run(['shipping'], {});
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('usage: migrate.mjs order|inventory|payment');
  });
});
