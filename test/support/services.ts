/**
 * Real services for tests: each test gets its own PostgreSQL database, RabbitMQ vhost and Redis
 * key prefix, so that runs (and parallel test files) never see each other's data.
 * Without REQUIRE_SERVICES a missing service skips the suites that need it; with it, they fail.
 */
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import pg from 'pg';

// Loaded lazily so that the benchmarks (bench/, run outside Vitest) can reuse these helpers.
const { describe, it } = process.env.VITEST ? await import('vitest') : ({} as typeof import('vitest'));

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const AMQP_BASE = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const RABBIT_API = process.env.TEST_RABBIT_API ?? 'http://guest:guest@127.0.0.1:15672/api';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type ServiceKind = 'postgres' | 'rabbitmq' | 'redis';
const PORTS: Record<ServiceKind, number> = { postgres: 5432, rabbitmq: 5672, redis: 6379 };
const required = process.env.REQUIRE_SERVICES === '1';

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port, timeout: 1000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

const availability = new Map<ServiceKind, boolean>();
for (const kind of Object.keys(PORTS) as ServiceKind[]) availability.set(kind, await reachable(PORTS[kind]));

/**
 * `describe` for suites that need real services. Missing service: skipped, or a failing test
 * under REQUIRE_SERVICES=1 (CI), never silently green.
 */
export function describeWith(needs: ServiceKind[], name: string, fn: () => void): void {
  const missing = needs.filter((k) => !availability.get(k));
  if (missing.length === 0) describe(name, fn);
  else if (required)
    describe(name, () => {
      it('has its services', () => {
        throw new Error(`REQUIRE_SERVICES=1 but ${missing.join(', ')} unreachable on 127.0.0.1`);
      });
    });
  else describe.skipIf(true)(`${name} (needs ${missing.join(', ')})`, fn);
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

async function rabbitApi(method: string, path: string, body?: unknown): Promise<Response> {
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
