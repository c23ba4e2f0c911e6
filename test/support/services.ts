/**
 * Real services for tests: each test gets its own PostgreSQL database, RabbitMQ vhost and Redis
 * key prefix, so that runs (and parallel test files) never see each other's data.
 * Without REQUIRE_SERVICES a missing service (or plugin, or Chromium) skips the suites that need it; with it, they
 * fail (test/support/pieces.ts says what each needs and how to provide it).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  AMQP_BASE,
  describeMissing,
  MISSING_ENV,
  missingPieces,
  PG_ADMIN_URL,
  type Piece,
  RABBIT_API,
  type ServiceKind,
} from './pieces.js';

// Loaded lazily so that the benchmarks (bench/, run outside Vitest) can reuse these helpers.
const { describe, it } = process.env.VITEST ? await import('vitest') : ({} as typeof import('vitest'));

export { AMQP_BASE, PG_ADMIN_URL, RABBIT_API, REDIS_URL, type ServiceKind } from './pieces.js';

const required = process.env.REQUIRE_SERVICES === '1';
// The run's global setup probed once; a file run outside it (bench, an editor) probes for itself.
const missing: Piece[] = process.env[MISSING_ENV]
  ? (JSON.parse(process.env[MISSING_ENV]) as Piece[])
  : process.env.VITEST
    ? await missingPieces()
    : [];

/**
 * `describe` for suites that need real services (or Chromium). Missing piece: skipped, its name and the command that
 * provides it in the title; under REQUIRE_SERVICES=1 (CI) a failing test naming it instead, never silently green.
 */
export function describeWith(needs: ServiceKind[], name: string, fn: () => void): void {
  const lacking = missing.filter((p) => needs.includes(p.kind));
  if (lacking.length === 0) describe(name, fn);
  else if (required)
    describe(name, () => {
      it('has what it needs', () => {
        throw new Error(lacking.map((p) => describeMissing(p, true)).join('\n'));
      });
    });
  else describe.skipIf(true)(`${name} (skipped: ${lacking.map((p) => `${p.what} — ${p.provide}`).join('; ')})`, fn);
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
}

/** A fresh, empty database; drop() removes it (terminating leftover connections). */
export async function createTestDatabase(
  prefix = 'test',
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = uniqueName(`cp_${prefix}`).toLowerCase();
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A URL for a database that does not exist yet (to test creation at start); drop() cleans up. */
export function freshDatabaseUrl(prefix = 'test'): { url: string; name: string; drop(): Promise<void> } {
  const name = uniqueName(`cp_${prefix}`).toLowerCase();
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function rabbitApi(method: string, path: string, body?: unknown): Promise<Response> {
  const u = new URL(RABBIT_API + path);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  const res = await fetch(u, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok && res.status !== 404)
    throw new Error(`RabbitMQ API ${method} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** A fresh RabbitMQ vhost (guest has all rights on it); drop() deletes it with everything in it. */
export async function createTestVhost(prefix = 'test'): Promise<{ url: string; vhost: string; drop(): Promise<void> }> {
  const vhost = uniqueName(`cp_${prefix}`);
  await rabbitApi('PUT', `/vhosts/${encodeURIComponent(vhost)}`);
  await rabbitApi('PUT', `/permissions/${encodeURIComponent(vhost)}/guest`, {
    configure: '.*',
    write: '.*',
    read: '.*',
  });
  return {
    url: `${AMQP_BASE}/${encodeURIComponent(vhost)}`,
    vhost,
    drop: async () => {
      await rabbitApi('DELETE', `/vhosts/${encodeURIComponent(vhost)}`);
    },
  };
}

/** Messages ready in a queue of a vhost (management API). */
export async function queueDepth(vhost: string, queue: string): Promise<number> {
  const res = await rabbitApi('GET', `/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`);
  if (res.status === 404) return 0;
  const q = (await res.json()) as { messages?: number };
  return q.messages ?? 0;
}

/** Polls until check() returns a truthy value, or fails after the deadline with the last value seen. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  { timeoutMs = 20_000, intervalMs = 50, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await check();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}; last value ${JSON.stringify(last)}${lastErr ? `, last error ${(lastErr as Error).message}` : ''}`,
  );
}
