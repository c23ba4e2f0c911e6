/**
 * Runs the platform as real child processes, exactly as users do (`npm start`, or one process per service),
 * for end-to-end and fault tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCommerceClient, type Order, type PlaceOrderRequest } from '@commerce/client';
import { SignJWT } from 'jose';
import { CHECK_DIR_ENV } from './responseCheck.js';
import { createTestVhost, freshDatabaseUrl, REDIS_URL, waitFor } from './services.js';

export const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'apps/platform/src/main.ts');
export const FINAL_STATUSES = ['COMPLETED', 'CANCELLED', 'COMPENSATED', 'COMPENSATION_FAILED'];

export interface PlatformProcess {
  name: string;
  child: ChildProcess;
  /** Everything the process printed on stdout and stderr so far. */
  output(): string;
  /** service name → base URL, from the start-up summary. */
  urls: Record<string, string>;
  tokens: { admin?: string; customer?: string };
  exited: Promise<number | null>;
  /** SIGTERM, wait for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  kill(): Promise<void>;
}

/** The response check of the run (responseCheck.ts) goes into the platform processes too. */
function responseCheckArgs(): string[] {
  return process.env[CHECK_DIR_ENV] ? ['--import', join(ROOT, 'test/support/responseCheckPreload.ts')] : [];
}
function responseCheckEnv(): Record<string, string> {
  const dir = process.env[CHECK_DIR_ENV];
  return dir ? { [CHECK_DIR_ENV]: dir } : {};
}

export function tempDataDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'commerce-e2e-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts `main.ts <which>` and resolves once its summary (service URLs) is printed. */
export async function startProcess(
  which: 'all' | 'order' | 'inventory' | 'payment',
  env: Record<string, string>,
  { timeoutMs = 60_000, viaNpmStart = false, nodeArgs = [] as string[] } = {},
): Promise<PlatformProcess> {
  // `npm start` is what users type; npm forwards SIGTERM/SIGINT to the platform process.
  const [cmd, args] = viaNpmStart
    ? ['npm', ['start', '--silent']]
    : [process.execPath, [...nodeArgs, '--conditions=source', '--import', 'tsx', ...responseCheckArgs(), ENTRY, which]];
  // npm does not pass on a SIGTERM sent to npm alone; a terminal (Ctrl-C) or a supervisor signals the whole
  // process group, so the npm start child leads its own group and stop() signals the group.
  const child = spawn(cmd, args, {
    detached: viaNpmStart,
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ORDER_PORT: '0',
      INVENTORY_PORT: '0',
      PAYMENT_PORT: '0',
      LOG_LEVEL: 'warn',
      ...responseCheckEnv(),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d) => {
    out += d.toString();
  });
  // 'close' waits for every process holding the output pipes (through npm: the platform itself) to finish.
  const exited = once(child, 'close').then(([code]) => code as number | null);
  const expected = which === 'all' ? ['order', 'inventory', 'payment'] : [which];
  const urls: Record<string, string> = {};
  const deadline = Date.now() + timeoutMs;
  let done = false;
  exited.then(() => {
    done = true;
  });
  while (Date.now() < deadline) {
    for (const m of out.matchAll(/^\s+(order|inventory|payment)\s+(http:\/\/\S+)\s+docs/gm)) urls[m[1]!] = m[2]!;
    if (expected.every((s) => urls[s])) break;
    if (done) throw new Error(`${which} exited before it was ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!expected.every((s) => urls[s])) {
    child.kill('SIGKILL');
    throw new Error(`${which} not ready after ${timeoutMs} ms:\n${out}`);
  }
  const tokens = {
    admin: /ADMIN_TOKEN=(\S+)/.exec(out)?.[1],
    customer: /CUSTOMER_TOKEN=(\S+)/.exec(out)?.[1],
  };
  return {
    name: which,
    child,
    output: () => out,
    urls,
    tokens,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      if (viaNpmStart && child.pid) process.kill(-child.pid, signal);
      else child.kill(signal);
      const code = await exited;
      // Through npm the exit status is npm's (killed by the signal); the platform says how it stopped.
      return viaNpmStart && out.includes('Commerce Platform stopped cleanly') ? 0 : code;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        if (viaNpmStart && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

export type Service = 'order' | 'inventory' | 'payment';
const SERVICES: readonly Service[] = ['order', 'inventory', 'payment'];

export interface DistributedOptions {
  /**
   * What to start, in this order, one step at a time; the services of an inner array start together
   * (`[['inventory', 'payment', 'order']]`: all three at once; `['order', 'inventory']`: one after the other).
   * A service may appear more than once (a second order worker).
   */
  services: (Service | readonly Service[])[];
  /** Names the vhost and, as `<prefix>_<service>`, the databases (e.g. 'saga'). */
  prefix: string;
  /** Database name prefixes that differ from `<prefix>_<service>`. */
  databasePrefixes?: Partial<Record<Service, string>>;
  /** JWT_SECRET; a random one by default. */
  secret?: string;
  /** Extra environment for every process (e.g. RATE_LIMIT=off, SAGA_TIMEOUT_MS, LOG_LEVEL=debug). */
  env?: Record<string, string>;
  /** Extra environment for the given service (e.g. NODE_OPTIONS=--cpu-prof for profiling). */
  envFor?: Partial<Record<Service, Record<string, string>>>;
  /** Extra node flags per service (e.g. --cpu-prof, which NODE_OPTIONS does not accept). */
  nodeArgsFor?: Partial<Record<Service, string[]>>;
  /** Each process gets only its own service's database URL, as in a real deployment. */
  ownDatabaseOnly?: boolean;
  /** How long each process may take to print its summary (startProcess's default otherwise). */
  timeoutMs?: number;
  /** Subject and lifetime of `adminToken`. */
  admin?: { sub: string; ttlSeconds: number };
}

export interface DistributedPlatform {
  /** service → base URL of the latest process started for it. */
  urls: Record<string, string>;
  secret: string;
  /** An admin JWT signed with `secret` (sub 'ops', one hour, unless `admin` says otherwise). */
  adminToken: string;
  amqpUrl: string;
  vhost: string;
  /** The environment every process shares (before envFor and ownDatabaseOnly). */
  env: Record<string, string>;
  databases: Record<Service, string>;
  databaseNames: Record<Service, string>;
  /** Every process started, in start order (a step's services in the order given), restarts included. */
  processes: PlatformProcess[];
  /** Starts one more process of a service with the same environment and flags (a restart, a second worker). */
  start(service: Service): Promise<PlatformProcess>;
  /**
   * Stops every process (SIGTERM, SIGKILL if that fails; SIGKILL at once with `kill`), then drops the vhost and
   * the databases. Every drop is tried; the first failure is thrown afterwards unless `ignoreDropErrors`.
   */
  stop(o?: { kill?: boolean; ignoreDropErrors?: boolean }): Promise<void>;
}

/**
 * The services as separate processes (`main.ts <service>`) on fresh PostgreSQL databases (created by the services
 * at start), a fresh RabbitMQ vhost and Redis. A failed start stops what did start and drops everything.
 */
export async function startDistributed(o: DistributedOptions): Promise<DistributedPlatform> {
  const dbs = Object.fromEntries(
    SERVICES.map((s) => [s, freshDatabaseUrl(o.databasePrefixes?.[s] ?? `${o.prefix}_${s}`)]),
  ) as Record<Service, ReturnType<typeof freshDatabaseUrl>>;
  const vhost = await createTestVhost(o.prefix);
  const secret = o.secret ?? randomBytes(32).toString('hex');
  const env: Record<string, string> = {
    JWT_SECRET: secret,
    AMQP_URL: vhost.url,
    REDIS_URL,
    ORDER_DATABASE_URL: dbs.order.url,
    INVENTORY_DATABASE_URL: dbs.inventory.url,
    PAYMENT_DATABASE_URL: dbs.payment.url,
    ...o.env,
  };
  const processes: PlatformProcess[] = [];
  const urls: Record<string, string> = {};
  const launch = (s: Service) => {
    const e = { ...env, ...o.envFor?.[s] };
    if (o.ownDatabaseOnly)
      for (const other of SERVICES) if (other !== s) delete e[`${other.toUpperCase()}_DATABASE_URL`];
    return startProcess(s, e, { timeoutMs: o.timeoutMs, nodeArgs: o.nodeArgsFor?.[s] ?? [] });
  };
  const stop: DistributedPlatform['stop'] = async ({ kill = false, ignoreDropErrors = false } = {}) => {
    await Promise.all(processes.map((p) => (kill ? p.kill() : p.stop().catch(() => p.kill()))));
    const errors: unknown[] = [];
    for (const drop of [() => vhost.drop(), ...SERVICES.map((s) => () => dbs[s].drop())])
      await drop().catch((e: unknown) => errors.push(e));
    if (errors.length && !ignoreDropErrors) throw errors[0];
  };
  // Step after step (three processes compiling TypeScript at once on two cores only start slower); a step's
  // services together, all of them started (or failed) before the next step or the clean-up.
  for (const step of o.services) {
    const started = await Promise.allSettled((typeof step === 'string' ? [step] : step).map((s) => launch(s)));
    for (const r of started) if (r.status === 'fulfilled') processes.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await stop({ ignoreDropErrors: true });
      throw failed.reason;
    }
  }
  for (const p of processes) Object.assign(urls, p.urls);
  return {
    urls,
    secret,
    adminToken: await token(secret, o.admin?.sub ?? 'ops', 'admin', o.admin?.ttlSeconds),
    amqpUrl: vhost.url,
    vhost: vhost.vhost,
    env,
    databases: { order: dbs.order.url, inventory: dbs.inventory.url, payment: dbs.payment.url },
    databaseNames: { order: dbs.order.name, inventory: dbs.inventory.name, payment: dbs.payment.name },
    processes,
    async start(service) {
      const p = await launch(service);
      processes.push(p);
      Object.assign(urls, p.urls);
      return p;
    },
    stop,
  };
}

export async function token(
  secret: string,
  sub: string,
  role: 'customer' | 'admin',
  ttlSeconds = 3600,
): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

export async function http(
  method: string,
  url: string,
  bearer: string | undefined,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read response fields directly
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: res.status, body: parsed, headers: res.headers };
}

/** The order service's typed client (@commerce/client) for `bearer`: the e2e helpers below call through it. */
export function orderApi(orderUrl: string, bearer: string) {
  return createCommerceClient({ orderUrl, token: bearer }).order;
}

export async function placeOrder(
  orderUrl: string,
  bearer: string,
  body: { customerId: string; currency: string; items: { productId: string; quantity: number; unitPrice: number }[] },
): Promise<string> {
  const r = await orderApi(orderUrl, bearer).POST('/orders', { body: body as PlaceOrderRequest });
  if (r.response.status !== 202 || !r.data)
    throw new Error(`POST /orders answered ${r.response.status}: ${JSON.stringify(r.error)}`);
  return r.data.orderId;
}

/** The order now, or undefined when it is not 200 (GET /orders/{orderId}). */
async function readOrder(orderUrl: string, bearer: string, orderId: string): Promise<Order | undefined> {
  const r = await orderApi(orderUrl, bearer).GET('/orders/{orderId}', { params: { path: { orderId } } });
  return r.response.status === 200 ? r.data : undefined;
}

export async function waitForFinal(orderUrl: string, bearer: string, orderId: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const order = await readOrder(orderUrl, bearer, orderId);
      return order && FINAL_STATUSES.includes(order.status) ? order : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `order ${orderId} to reach a final status` },
  );
}

/** Polls until the order has exactly `status` (e.g. a non-final CONFIRMED, or COMPENSATED after a detour). */
export async function waitForStatus(
  orderUrl: string,
  bearer: string,
  orderId: string,
  status: string,
  timeoutMs = 30_000,
) {
  return waitFor(
    async () => {
      const order = await readOrder(orderUrl, bearer, orderId);
      return order?.status === status ? order : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `order ${orderId} to reach ${status}` },
  );
}

/** The event types of an order's stream, oldest first (GET /orders/{id}/events). */
export async function orderEventTypes(orderUrl: string, bearer: string, orderId: string): Promise<string[]> {
  const r = await orderApi(orderUrl, bearer).GET('/orders/{orderId}/events', { params: { path: { orderId } } });
  if (r.response.status !== 200 || !r.data)
    throw new Error(`GET /orders/${orderId}/events answered ${r.response.status}: ${JSON.stringify(r.error)}`);
  return r.data.map((e) => e.type);
}

/** Runs `commerce <args>` (the operator CLI) with only PATH and `env`; resolves with exit code and output. */
export async function runCommerce(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'apps/platform/bin/commerce.mjs'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = await once(child, 'close');
  clearTimeout(timer);
  return { code: code as number | null, stdout, stderr };
}
