/** A bad or contradictory setting stops the start with one line naming it (SPEC §3), before anything is opened. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/platform.js';

function start(service: string, env: Record<string, string>) {
  const r = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(ROOT, 'apps/platform/src/main.ts'), service],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return { code: r.status, stderr: r.stderr.trim(), stdout: r.stdout.trim() };
}

describe('start with bad settings', () => {
  it('stops with exit 2 and one line naming the setting', () => {
    const r = start('all', { ORDER_PORT: 'abc', DATA_DIR: '/nonexistent/never-created' });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toEqual([
      'configuration error: ORDER_PORT="abc": expected an integer from 0 to 65535',
    ]);
    expect(r.stdout).toBe('');
  });

  it('refuses a database URL without AMQP_URL, and a distributed start without auth', () => {
    const a = start('order', { ORDER_DATABASE_URL: 'postgres://postgres@127.0.0.1/x' });
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/^configuration error: ORDER_DATABASE_URL is set but AMQP_URL is not/);
    const b = start('order', { ORDER_DATABASE_URL: 'postgres://postgres@127.0.0.1/x', AMQP_URL: 'amqp://127.0.0.1' });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/no JWT_SECRET or JWT_JWKS_URL/);
  });

  it('refuses a value a part would refuse later, naming the setting, before anything is opened', () => {
    // The outbox relay accepts only a positive retention: 0 once passed validation and failed the start naming none.
    const r = start('all', { OUTBOX_RETENTION_MS: '0', DATA_DIR: '/nonexistent/never-created' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('configuration error: OUTBOX_RETENTION_MS=0: expected an integer from 1 to 7776000000');
  });

  it('names an unknown service', () => {
    const r = start('shipping', {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown service "shipping"/);
  });
});
