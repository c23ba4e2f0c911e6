/**
 * The fault harness (issue 8): the three services as separate processes (plus a second order worker sharing the
 * partitions) on real PostgreSQL, RabbitMQ and Redis, a load generator that behaves like real clients (retries with
 * the same Idempotency-Key), the fault injectors, and the checks run after every scenario (settle, `commerce audit`
 * as a CLI child process, movements per order, dead letters).
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import pg from 'pg';
import { metricTotal } from '../support/metrics.js';
import { type PlatformProcess, ROOT, type Service, startDistributed, token } from '../support/platform.js';
import { PG_ADMIN_URL, RABBIT_API, REDIS_URL, uniqueName, waitFor } from '../support/services.js';
import { newReturnFigures, PENDING_RETURNS_SQL, plannedReturns, returnAfterCompletion } from './returnsMix.js';

const run = promisify(execFile);

export const FULL = process.env.FAULTS_FULL === '1';
const RESULTS_DIR = join(ROOT, 'test/faults/results');
export const MODE: 'short' | 'full' = FULL ? 'full' : 'short';
/** Load per scenario: a few seconds in `npm test`, at least 60 s in the full run. */
export const LOAD_MS = FULL ? 60_000 : 4_000;
export const RATE_PER_SECOND = FULL ? 20 : 15;
export const SAGA_TIMEOUT_MS = 5_000;
/** Long enough for a lease failover (~12 s) plus the compensation deadline (3 × SAGA_TIMEOUT_MS) and a retry. */
export const SETTLE_TIMEOUT_MS = 120_000;

export type ProcName = 'inventory' | 'payment' | 'order1' | 'order2';
const SERVICE_OF: Record<ProcName, Service> = {
  inventory: 'inventory',
  payment: 'payment',
  order1: 'order',
  order2: 'order',
};

export const CURRENCY = 'EUR';
export const RICH_CUSTOMERS = ['rich-0', 'rich-1', 'rich-2', 'rich-3'];
export const POOR_CUSTOMER = 'poor-0';
export const PRODUCTS = [
  { productId: 'sku-0', unitPrice: 120, stock: 1_000_000 },
  { productId: 'sku-1', unitPrice: 250, stock: 1_000_000 },
  { productId: 'sku-2', unitPrice: 999, stock: 1_000_000 },
  // Orders ask for 2 of it: always OUT_OF_STOCK.
  { productId: 'scarce-0', unitPrice: 500, stock: 1 },
];

export interface FaultPlatform {
  secret: string;
  adminToken: string;
  env: Record<string, string>;
  dbs: Record<Service, { url: string; name: string }>;
  vhost: { url: string; vhost: string };
  procs: Record<ProcName, PlatformProcess>;
  /** Base URLs of the order processes that are running now. */
  orderUrls(): string[];
  urlOf(service: 'inventory' | 'payment'): string;
  /** SIGKILL a process (no clean shutdown). */
  kill(name: ProcName): Promise<void>;
  restart(name: ProcName): Promise<void>;
  /** Everything the processes printed (including processes killed earlier). */
  logs(): string;
  /** Processes that exited without being killed by the harness: a crash is a bug. */
  crashes: { name: ProcName; pid?: number; code: number | null; output: string }[];
  stop(): Promise<void>;
}

export async function startFaultPlatform(): Promise<FaultPlatform> {
  // Inventory and payment first: their queues must exist before the order outbox publishes.
  const started = await startDistributed({
    services: [['inventory', 'payment'], 'order', 'order'],
    prefix: 'faults',
    secret: uniqueName('fault-secret-0123456789-abcdefghijklmnop'),
    env: { SAGA_TIMEOUT_MS: String(SAGA_TIMEOUT_MS), RATE_LIMIT: 'off', LOG_LEVEL: 'warn', ...RISK_ENV },
    // Each process needs only its own database URL, as in a real deployment.
    ownDatabaseOnly: true,
    timeoutMs: 90_000,
    admin: { sub: 'fault-ops', ttlSeconds: 6 * 3600 },
  });
  const oldLogs: string[] = [];
  const procs = {} as Record<ProcName, PlatformProcess>;
  const crashes: FaultPlatform['crashes'] = [];
  const killedOnPurpose = new Set<PlatformProcess>();
  const track = (name: ProcName, proc: PlatformProcess) => {
    procs[name] = proc;
    proc.exited.then((code) => {
      if (!killedOnPurpose.has(proc)) crashes.push({ name, pid: proc.child.pid, code, output: proc.output() });
    });
  };
  // In start order: the two started together, then the two order workers.
  for (const [i, name] of (['inventory', 'payment', 'order1', 'order2'] as const).entries())
    track(name, started.processes[i]!);
  const killOnPurpose = async (proc: PlatformProcess) => {
    killedOnPurpose.add(proc);
    await proc.kill();
  };
  const db = (s: Service) => ({ url: started.databases[s], name: started.databaseNames[s] });
  const platform: FaultPlatform = {
    secret: started.secret,
    adminToken: started.adminToken,
    env: started.env,
    dbs: { order: db('order'), inventory: db('inventory'), payment: db('payment') },
    vhost: { url: started.amqpUrl, vhost: started.vhost },
    procs,
    orderUrls: () =>
      (['order1', 'order2'] as const)
        // A process ended by a signal (SIGKILL) keeps exitCode null and gets a signalCode.
        .filter((n) => procs[n].child.exitCode === null && procs[n].child.signalCode === null)
        .map((n) => procs[n].urls.order!),
    urlOf: (s) => procs[s].urls[s]!,
    crashes,
    async kill(name) {
      await killOnPurpose(procs[name]);
    },
    async restart(name) {
      oldLogs.push(`--- ${name} (pid ${procs[name].child.pid}) ---\n${procs[name].output()}`);
      await killOnPurpose(procs[name]);
      track(name, await started.start(SERVICE_OF[name]));
    },
    logs: () =>
      [...oldLogs, ...Object.entries(procs).map(([n, p]) => `--- ${n} (pid ${p.child.pid}) ---\n${p.output()}`)].join(
        '\n',
      ),
    async stop() {
      await Promise.all(Object.values(procs).map((p) => killOnPurpose(p)));
      await started.stop({ kill: true, ignoreDropErrors: true });
    },
  };
  await seed(platform);
  return platform;
}

async function send(method: string, url: string, bearer: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${method} ${url} answered ${res.status}: ${await res.text()}`);
}

/** Products and customers over HTTP, as an operator would. */
async function seed(p: FaultPlatform): Promise<void> {
  for (const prod of PRODUCTS)
    await send('PUT', `${p.urlOf('inventory')}/products/${prod.productId}`, p.adminToken, {
      name: prod.productId,
      unitPrice: prod.unitPrice,
      currency: CURRENCY,
      stock: prod.stock,
    });
  for (const c of RICH_CUSTOMERS)
    await send('PUT', `${p.urlOf('payment')}/customers/${c}`, p.adminToken, {
      balance: 100_000_000_000,
      currency: CURRENCY,
    });
  await send('PUT', `${p.urlOf('payment')}/customers/${POOR_CUSTOMER}`, p.adminToken, {
    balance: 50,
    currency: CURRENCY,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Load

export type OrderKind =
  | 'in-stock'
  | 'out-of-stock'
  | 'insufficient-funds'
  | 'price-mismatch'
  | 'unknown-product'
  | 'review-approved'
  | 'review-left'
  | 'risk-rejected';

/**
 * The risk review in the mix (issue 21, docs/risk.md): an amount rule and a quantity rule that only the risk kinds
 * trip. A `review-approved` order is held and approved by an admin (the load generator, retrying like a client);
 * a `review-left` one is held and rejected at REVIEW_TIMEOUT_MS; a `risk-rejected` one trips both rules (60 + 30 ≥
 * RISK_REJECT_SCORE 90) and is rejected at once.
 */
export const REVIEW_TIMEOUT_MS = 5_000;
export const RISK_ENV = {
  RISK_AMOUNT_LIMIT: '50000',
  RISK_MAX_PRODUCT_QUANTITY: '500',
  RISK_REJECT_SCORE: '90',
  REVIEW_TIMEOUT_MS: String(REVIEW_TIMEOUT_MS),
};
/** The kinds that may complete: in stock, and held then approved (unless a fault delayed the approval past the timeout). */
export const MAY_COMPLETE: ReadonlySet<OrderKind> = new Set(['in-stock', 'review-approved']);
const KINDS: OrderKind[] = [
  'in-stock',
  'in-stock',
  'in-stock',
  'out-of-stock',
  'in-stock',
  'insufficient-funds',
  'in-stock',
  'price-mismatch',
  'in-stock',
  'unknown-product',
  'review-approved',
  'review-left',
  'risk-rejected',
];

function orderBody(kind: OrderKind, n: number) {
  const rich = RICH_CUSTOMERS[n % RICH_CUSTOMERS.length]!;
  const p = PRODUCTS[n % 3]!;
  const q = PRODUCTS[(n + 1) % 3]!;
  switch (kind) {
    case 'in-stock':
      return {
        customerId: rich,
        currency: CURRENCY,
        items: [
          { productId: p.productId, quantity: 1 + (n % 3), unitPrice: p.unitPrice },
          { productId: q.productId, quantity: 1, unitPrice: q.unitPrice },
        ],
      };
    case 'out-of-stock':
      return {
        customerId: rich,
        currency: CURRENCY,
        items: [{ productId: 'scarce-0', quantity: 2, unitPrice: 500 }],
      };
    case 'insufficient-funds':
      return {
        customerId: POOR_CUSTOMER,
        currency: CURRENCY,
        items: [{ productId: p.productId, quantity: 1, unitPrice: p.unitPrice }],
      };
    case 'price-mismatch':
      return {
        customerId: rich,
        currency: CURRENCY,
        items: [{ productId: p.productId, quantity: 1, unitPrice: p.unitPrice + 1 }],
      };
    case 'unknown-product':
      return {
        customerId: rich,
        currency: CURRENCY,
        items: [{ productId: `no-such-${n % 7}`, quantity: 1, unitPrice: 100 }],
      };
    case 'review-approved':
    case 'review-left':
      // 450 × 120 = 54 000 over RISK_AMOUNT_LIMIT: 60, held for review.
      return { customerId: rich, currency: CURRENCY, items: [{ productId: 'sku-0', quantity: 450, unitPrice: 120 }] };
    case 'risk-rejected':
      // 600 × 120 = 72 000 and 600 units of one product: 60 + 30, rejected.
      return { customerId: rich, currency: CURRENCY, items: [{ productId: 'sku-0', quantity: 600, unitPrice: 120 }] };
  }
}

export interface LoadFigures {
  sent: number;
  accepted: number;
  /** POST attempts repeated after a connection error or a 5xx (same Idempotency-Key). */
  retries: number;
  /** Requests answered with a 4xx (none expected). */
  rejected: { status: number; body: string }[];
  /** Requests that never got a 202 before the client's deadline. */
  gaveUp: number;
  byKind: Record<OrderKind, number>;
  /** Returns asked of COMPLETED in-stock orders (returnsMix.ts). */
  returns: ReturnType<typeof newReturnFigures>;
}

/**
 * Places orders at a steady arrival rate (open loop: a slow answer does not slow the arrivals), with a mix of
 * outcomes; every 202 orderId is recorded. A request failing with a connection error or a 5xx is retried with the
 * same Idempotency-Key, against the next order process, until it gets an answer (what clients do).
 */
export class LoadGenerator {
  readonly accepted = new Map<string, OrderKind>();
  readonly figures: LoadFigures = {
    sent: 0,
    accepted: 0,
    retries: 0,
    rejected: [],
    gaveUp: 0,
    byKind: {
      'in-stock': 0,
      'out-of-stock': 0,
      'insufficient-funds': 0,
      'price-mismatch': 0,
      'unknown-product': 0,
      'review-approved': 0,
      'review-left': 0,
      'risk-rejected': 0,
    },
    returns: newReturnFigures(),
  };
  /** Accepted returns: returnId → orderId. */
  readonly acceptedReturns = new Map<string, string>();
  private running = false;
  private inFlight = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private tokens = new Map<string, string>();
  private n = 0;

  constructor(
    private readonly platform: FaultPlatform,
    private readonly ratePerSecond = RATE_PER_SECOND,
    private readonly clientDeadlineMs = 120_000,
  ) {}

  async start(): Promise<void> {
    for (const c of [...RICH_CUSTOMERS, POOR_CUSTOMER])
      this.tokens.set(c, await token(this.platform.secret, c, 'customer', 6 * 3600));
    this.running = true;
    const started = Date.now();
    let launched = 0;
    // Catch up on missed ticks so that the arrival rate holds even when the event loop is busy.
    this.timer = setInterval(() => {
      const due = Math.floor(((Date.now() - started) / 1000) * this.ratePerSecond);
      while (this.running && launched < due) {
        launched++;
        const p = this.placeOne().finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }
    }, 20);
  }

  /** Stops new arrivals and waits for every request in flight (including its retries). */
  async stop(): Promise<LoadFigures> {
    this.running = false;
    clearInterval(this.timer);
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    return this.figures;
  }

  private async placeOne(): Promise<void> {
    const n = this.n++;
    const kind = KINDS[n % KINDS.length]!;
    const body = orderBody(kind, n);
    const bearer = this.tokens.get(body.customerId)!;
    const key = randomUUID();
    const deadline = Date.now() + this.clientDeadlineMs;
    this.figures.sent++;
    for (let attempt = 0; ; attempt++) {
      const urls = this.platform.orderUrls();
      const base = urls[(n + attempt) % Math.max(1, urls.length)];
      let status = 0;
      let text = '';
      try {
        if (!base) throw new Error('no order process running');
        const res = await fetch(`${base}/orders`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${bearer}`,
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        status = res.status;
        text = await res.text();
      } catch {
        status = 0; // connection refused/reset, timeout
      }
      if (status === 202) {
        const orderId = (JSON.parse(text) as { orderId: string }).orderId;
        if (!this.accepted.has(orderId)) {
          this.accepted.set(orderId, kind);
          this.figures.accepted++;
          this.figures.byKind[kind]++;
          if (kind === 'in-stock')
            await returnAfterCompletion({
              orderId,
              returns: plannedReturns(n, body.items),
              bearer,
              orderUrls: () => this.platform.orderUrls(),
              deadline,
              figures: this.figures.returns,
              accepted: this.acceptedReturns,
            });
          if (kind === 'review-approved') await approveReview(this.platform, orderId, n, deadline);
        }
        return;
      }
      if (status >= 400 && status < 500) {
        this.figures.rejected.push({ status, body: text.slice(0, 500) });
        return;
      }
      if (Date.now() > deadline) {
        this.figures.gaveUp++;
        return;
      }
      this.figures.retries++;
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 300)); // client back-off between retries
    }
  }
}

/**
 * An admin approving a held order, as the CLI or console would: retried on a connection error or a 5xx, and while the
 * order is not held yet (409 naming its PENDING status); done when approved, or when it is decided otherwise (the
 * review timed out under a fault, or the order failed for another reason).
 */
export async function approveReview(p: FaultPlatform, orderId: string, n: number, deadline: number): Promise<string> {
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const urls = p.orderUrls();
    const base = urls[(n + attempt) % Math.max(1, urls.length)];
    let status = 0;
    let text = '';
    try {
      if (!base) throw new Error('no order process running');
      const res = await fetch(`${base}/admin/reviews/${orderId}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${p.adminToken}` },
        signal: AbortSignal.timeout(15_000),
      });
      status = res.status;
      text = await res.text();
    } catch {
      status = 0;
    }
    if (status === 200) return 'approved';
    if (status === 409 && !text.includes('is PENDING')) return 'decided otherwise';
    if (status >= 400 && status < 500 && status !== 409) return `refused ${status}`;
    await new Promise((r) => setTimeout(r, 200));
  }
  return 'gave up';
}

/** Runs the load for `ms` while `during` injects faults (it is awaited too); returns the generator, stopped. */
export async function withLoad(
  platform: FaultPlatform,
  ms: number,
  during: (load: LoadGenerator, elapsed: () => number) => Promise<unknown>,
): Promise<LoadGenerator> {
  const load = new LoadGenerator(platform);
  await load.start();
  const t0 = Date.now();
  const elapsed = () => Date.now() - t0;
  try {
    await during(load, elapsed);
  } catch (err) {
    await load.stop();
    throw err;
  }
  const rest = ms - elapsed();
  if (rest > 0) await sleepFor(rest);
  await load.stop();
  return load;
}

/** A deliberate pause: fault timing (how long an outage lasts, how long load runs), never a wait for a condition. */
export function sleepFor(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------------------------------------------------------
// Faults

/** Picks an order worker holding at least one partition lease now. */
export async function orderWorkerHoldingPartitions(p: FaultPlatform): Promise<ProcName> {
  return waitFor(
    async () => {
      for (const name of ['order1', 'order2'] as const) {
        const pid = p.procs[name].child.pid;
        const n = Number(
          (
            await pgQuery(
              p.dbs.order.url,
              'SELECT count(*)::int AS n FROM partition_leases WHERE owner LIKE $1 AND expires_at > now()',
              [`${pid}-%`],
            )
          )[0]?.n ?? 0,
        );
        if (n > 0) return name;
      }
      return undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: 'an order worker holding partitions' },
  );
}

export async function partitionsHeldBy(p: FaultPlatform, name: 'order1' | 'order2'): Promise<number> {
  const rows = await pgQuery(
    p.dbs.order.url,
    'SELECT count(*)::int AS n FROM partition_leases WHERE owner LIKE $1 AND expires_at > now()',
    [`${p.procs[name].child.pid}-%`],
  );
  return Number(rows[0]?.n ?? 0);
}

export async function rabbitStopApp(): Promise<void> {
  await run('rabbitmqctl', ['stop_app']);
}
export async function rabbitStartApp(): Promise<void> {
  await run('rabbitmqctl', ['start_app']);
  await run('rabbitmqctl', ['await_startup']).catch(() => {});
}

export async function redisFlushAll(): Promise<void> {
  await run('redis-cli', ['-u', REDIS_URL, 'FLUSHALL']);
}
export async function redisShutdown(): Promise<void> {
  await run('redis-cli', ['-u', REDIS_URL, 'shutdown', 'nosave']).catch(() => {});
}
/** Starts Redis again if it is not answering (also the safety net of afterAll). */
export async function ensureRedisUp(): Promise<void> {
  const up = await run('redis-cli', ['-u', REDIS_URL, 'ping'])
    .then((r) => r.stdout.trim() === 'PONG')
    .catch(() => false);
  if (up) return;
  await run('redis-server', [
    '--daemonize',
    'yes',
    '--bind',
    '127.0.0.1',
    '--port',
    '6379',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await waitFor(
    () =>
      run('redis-cli', ['-u', REDIS_URL, 'ping'])
        .then((r) => r.stdout.trim() === 'PONG')
        .catch(() => false),
    { timeoutMs: 15_000, what: 'redis to answer PING' },
  );
}

export async function terminateConnections(dbName: string): Promise<number> {
  const rows = await pgQuery(
    PG_ADMIN_URL,
    'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [dbName],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Makes one test database refuse connections (and drops the ones it has); `allow` undoes it. */
export async function blockDatabase(dbName: string): Promise<void> {
  // ALTER DATABASE takes an identifier, not a parameter: quote it (the names come from uniqueName()).
  if (!/^[a-z0-9_]+$/.test(dbName)) throw new Error(`unexpected database name ${dbName}`);
  await pgQuery(PG_ADMIN_URL, `ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS false`, []);
  await terminateConnections(dbName);
}
export async function allowDatabase(dbName: string): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(dbName)) throw new Error(`unexpected database name ${dbName}`);
  await pgQuery(PG_ADMIN_URL, `ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS true`, []);
}

export async function pgQuery(url: string, sql: string, params: unknown[]): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Messages straight to the exchanges

export interface CapturedMessage {
  exchange: string;
  routingKey: string;
  content: Buffer;
  properties: amqp.MessageProperties;
}

/**
 * A test queue bound to the three exchanges (`#`), holding the latest real envelopes, and a channel to publish
 * copies, re-ordered and poison messages straight to the exchanges.
 */
export class WireTap {
  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: Channel,
    readonly queue: string,
  ) {}

  static async open(amqpUrl: string): Promise<WireTap> {
    const conn = await amqp.connect(amqpUrl);
    conn.on('error', () => {});
    const ch = await conn.createChannel();
    ch.on('error', () => {});
    const queue = 'faults.wiretap';
    // Durable, so that it survives a broker restart; bounded, keeping the newest messages.
    await ch.assertQueue(queue, { durable: true, arguments: { 'x-max-length': 400, 'x-overflow': 'drop-head' } });
    for (const x of ['order_events', 'inventory_events', 'payment_events']) {
      await ch.assertExchange(x, 'topic', { durable: true });
      await ch.bindQueue(queue, x, '#');
    }
    return new WireTap(conn, ch, queue);
  }

  /** Takes everything captured so far. */
  async drain(): Promise<CapturedMessage[]> {
    const out: CapturedMessage[] = [];
    for (;;) {
      const m = await this.ch.get(this.queue, { noAck: true });
      if (!m) return out;
      out.push({
        exchange: m.fields.exchange,
        routingKey: m.fields.routingKey,
        content: m.content,
        properties: m.properties,
      });
    }
  }

  async publish(
    exchange: string,
    routingKey: string,
    content: Buffer | string,
    props: { messageId: string; type?: string; correlationId?: string; headers?: Record<string, unknown> },
  ): Promise<void> {
    this.ch.publish(exchange, routingKey, Buffer.isBuffer(content) ? content : Buffer.from(content), {
      persistent: true,
      contentType: 'application/json',
      ...props,
    });
  }

  /** Publishes a copy of a captured message, same body and properties (same message id). */
  async republish(m: CapturedMessage): Promise<void> {
    const pr = m.properties;
    this.ch.publish(m.exchange, m.routingKey, m.content, {
      persistent: true,
      contentType: pr.contentType,
      messageId: pr.messageId,
      type: pr.type,
      correlationId: pr.correlationId,
      headers: pr.headers,
    });
  }

  async close(): Promise<void> {
    await this.ch.close().catch(() => {});
    await this.conn.close().catch(() => {});
  }
}

export function envelope(
  eventType: string,
  orderId: string,
  data: unknown,
  source = 'order',
  eventId: string = randomUUID(),
) {
  return {
    eventId,
    eventType,
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    orderId,
    causationId: null,
    source,
    data,
  };
}

export interface DeadLetter {
  queue: string;
  messageId?: string;
  correlationId?: string;
  reason?: string;
  attempts?: number;
}

async function rabbitApi(method: string, path: string, body?: unknown): Promise<Response> {
  const u = new URL(RABBIT_API + path);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  return fetch(u, {
    method,
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Every dead letter of the vhost, read through the management API without removing it (ack_requeue_true). */
export async function deadLetters(vhost: string): Promise<DeadLetter[]> {
  const res = await rabbitApi('GET', `/queues/${encodeURIComponent(vhost)}?columns=name,messages`);
  if (!res.ok) throw new Error(`RabbitMQ API: ${res.status}`);
  const queues = ((await res.json()) as { name: string; messages?: number }[]).filter((q) => q.name.endsWith('.dlq'));
  const out: DeadLetter[] = [];
  for (const q of queues) {
    if (!q.messages) continue;
    const r = await rabbitApi('POST', `/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(q.name)}/get`, {
      count: q.messages + 50,
      ackmode: 'ack_requeue_true',
      encoding: 'auto',
      truncate: 2000,
    });
    if (!r.ok) throw new Error(`RabbitMQ API get ${q.name}: ${r.status}`);
    for (const m of (await r.json()) as {
      properties: {
        message_id?: string;
        correlation_id?: string;
        headers?: Record<string, unknown>;
      };
    }[])
      out.push({
        queue: q.name,
        messageId: m.properties.message_id,
        correlationId: m.properties.correlation_id,
        reason: m.properties.headers?.['x-error'] as string | undefined,
        attempts: Number(m.properties.headers?.['x-attempts']),
      });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Checks after a scenario

/** Waits until every accepted order is present and final in the order database; returns the time it took. */
export async function settle(p: FaultPlatform, orderIds: string[], timeoutMs = SETTLE_TIMEOUT_MS): Promise<number> {
  const t0 = Date.now();
  let last: Record<string, unknown>[] = [];
  try {
    await waitFor(
      async () => {
        last = await pgQuery(
          p.dbs.order.url,
          `SELECT order_id::text AS order_id, status FROM orders WHERE order_id::text = ANY($1::text[])
             AND status NOT IN ('COMPLETED', 'CANCELLED', 'COMPENSATED', 'COMPENSATION_FAILED')`,
          [orderIds],
        );
        const present = await pgQuery(
          p.dbs.order.url,
          'SELECT count(*)::int AS n FROM orders WHERE order_id::text = ANY($1::text[])',
          [orderIds],
        );
        // Returns asked during the load (returnsMix.ts) end too: none still REQUESTED.
        const returning = await pgQuery(p.dbs.order.url, PENDING_RETURNS_SQL, [orderIds]);
        return last.length === 0 && Number(present[0]?.n) === orderIds.length && Number(returning[0]?.n) === 0;
      },
      { timeoutMs, intervalMs: 500, what: 'every accepted order to be final and every return ended' },
    );
  } catch (err) {
    // Say where the stuck orders' messages are: queues still holding messages (and whether anyone consumes them),
    // unpublished outbox rows per service; the whole log goes to a file, the message keeps its tail.
    const queues = await rabbitApi(
      'GET',
      `/queues/${encodeURIComponent(p.vhost.vhost)}?columns=name,messages,consumers`,
    )
      .then(async (r) =>
        ((await r.json()) as { name: string; messages: number; consumers: number }[]).filter((q) => q.messages > 0),
      )
      .catch((e: Error) => `unavailable: ${e.message}`);
    const outbox: Record<string, unknown> = {};
    for (const [name, db] of Object.entries(p.dbs))
      outbox[name] = await pgQuery(
        db.url,
        'SELECT count(*)::int AS unpublished FROM outbox WHERE published_at IS NULL',
        [],
      )
        .then((r) => r[0])
        .catch((e: Error) => e.message);
    const logFile = join(RESULTS_DIR, 'last-settle-failure.log');
    mkdirSync(RESULTS_DIR, { recursive: true });
    writeFileSync(logFile, p.logs());
    throw new Error(
      `${(err as Error).message}\nnot final: ${JSON.stringify(last.slice(0, 20))}\nqueues holding messages: ${JSON.stringify(queues)}\nunpublished outbox rows: ${JSON.stringify(outbox)}\nfull logs: ${logFile}\n--- logs (tail) ---\n${p.logs().slice(-4000)}`,
    );
  }
  return Date.now() - t0;
}

export interface AuditOutcome {
  exitCode: number | null;
  report: {
    ok: boolean;
    counts: { orders: number; final: number; inFlight: number };
    breaches: { invariant: number; message: string }[];
    warnings: string[];
  };
  stderr: string;
}

/** `commerce audit --json` as operators run it: a CLI child process with the three database URLs. */
export async function commerceAudit(p: FaultPlatform): Promise<AuditOutcome> {
  const child = spawn(process.execPath, [join(ROOT, 'apps/platform/bin/commerce.mjs'), 'audit', '--json'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      ORDER_DATABASE_URL: p.dbs.order.url,
      INVENTORY_DATABASE_URL: p.dbs.inventory.url,
      PAYMENT_DATABASE_URL: p.dbs.payment.url,
      AMQP_URL: p.env.AMQP_URL!,
      SAGA_TIMEOUT_MS: String(SAGA_TIMEOUT_MS),
      JWT_SECRET: p.secret,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d.toString();
  });
  child.stderr.on('data', (d) => {
    err += d.toString();
  });
  const exitCode = await new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let report: AuditOutcome['report'];
  try {
    report = JSON.parse(out);
  } catch {
    throw new Error(`commerce audit --json printed no JSON (exit ${exitCode}):\n${out}\n${err}`);
  }
  return { exitCode, report, stderr: err };
}

/**
 * Effects applied more than once, counted straight from the ledgers: per order (and return) and product, at most one
 * movement of each kind; per order, at most one deduction and one refund, and one refund per return; no ORDER_*
 * decision twice in one stream (a return's events carry its returnId: see below).
 */
export async function duplicateEffects(p: FaultPlatform): Promise<string[]> {
  const found: string[] = [];
  for (const r of await pgQuery(
    p.dbs.inventory.url,
    `SELECT order_id::text AS order_id, product_id, kind, count(*)::int AS n FROM stock_movements
      WHERE order_id IS NOT NULL GROUP BY 1, 2, 3, return_id HAVING count(*) > 1`,
    [],
  ))
    found.push(`stock ${r.kind} ×${r.n} for order ${r.order_id} product ${r.product_id}`);
  for (const r of await pgQuery(
    p.dbs.payment.url,
    `SELECT order_id::text AS order_id, kind, count(*)::int AS n FROM money_movements
      WHERE order_id IS NOT NULL GROUP BY 1, 2, return_id HAVING count(*) > 1`,
    [],
  ))
    found.push(`money ${r.kind} ×${r.n} for order ${r.order_id}`);
  for (const r of await pgQuery(
    p.dbs.order.url,
    `SELECT stream_id, event_type, count(*)::int AS n FROM events
      WHERE event_type LIKE 'ORDER\\_%' GROUP BY 1, 2, data->>'returnId' HAVING count(*) > 1`,
    [],
  ))
    found.push(`${r.event_type} ×${r.n} in ${r.stream_id}`);
  return found;
}

/**
 * Deliveries the inboxes absorbed (commerce_inbox_duplicates_total on /metrics), summed over the service processes
 * while a scenario runs. A process killed and restarted starts from 0 again: its count before is kept from the last
 * sample (sampled every 250 ms, so a kill may lose the last fraction of a second: the figure is a lower bound).
 */
export async function sampleInboxDuplicates(p: FaultPlatform): Promise<{ stop(): Promise<number> }> {
  /** Per process URL: the counter when first seen (0 for a process started during the scenario) and the last. */
  const seen = new Map<string, { base: number; last: number }>();
  let carried = 0;
  const urls = () => [...p.orderUrls(), p.urlOf('inventory')];
  const sample = async (first: boolean) => {
    await Promise.all(
      urls().map(async (url) => {
        const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })
          .then((r) => (r.ok ? r.text() : ''))
          .catch(() => '');
        if (!text) return;
        const total = metricTotal(text, 'commerce_inbox_duplicates_total') ?? 0;
        const s = seen.get(url);
        if (!s) seen.set(url, { base: first ? total : 0, last: total });
        else if (total < s.last) {
          // Restarted: what it counted before stays counted; the new process counts from 0.
          carried += s.last - s.base;
          seen.set(url, { base: 0, last: total });
        } else s.last = total;
      }),
    );
  };
  await sample(true);
  let busy: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    busy = busy.then(() => sample(false));
  }, 250);
  return {
    async stop() {
      clearInterval(timer);
      await busy;
      await sample(false);
      return carried + [...seen.values()].reduce((a, s) => a + s.last - s.base, 0);
    },
  };
}

/** Per accepted order: status in the order database, and the number of orders our clients' keys produced. */
export async function orderStatuses(p: FaultPlatform, orderIds: string[]): Promise<Map<string, string>> {
  const rows = await pgQuery(
    p.dbs.order.url,
    'SELECT order_id::text AS order_id, status FROM orders WHERE order_id::text = ANY($1::text[])',
    [orderIds],
  );
  return new Map(rows.map((r) => [r.order_id as string, r.status as string]));
}

export async function orderCount(p: FaultPlatform): Promise<number> {
  return Number((await pgQuery(p.dbs.order.url, 'SELECT count(*)::int AS n FROM orders', []))[0]?.n);
}

// ---------------------------------------------------------------------------------------------------------------
// Results

export interface ScenarioResult {
  scenario: string;
  ordersAccepted: number;
  faultsInjected: number;
  faults: string[];
  ordersFinal: number;
  invariantBreaches: number;
  duplicatesApplied: number;
  /** Second deliveries the inboxes absorbed (a lower bound: see sampleInboxDuplicates). */
  duplicatesAbsorbed: number;
  messagesDeadLettered: number;
  /** Of those, real messages (not injected poison or phantom-order answers): must be 0. */
  realMessagesDeadLettered: number;
  timeToSettleMs: number;
  clientRetries: number;
  /** Returns asked of COMPLETED orders during the load (returnsMix.ts); settle waited for each to end. */
  returns?: ReturnType<typeof newReturnFigures>;
  /** Service processes that died on their own (must be 0). */
  crashes: number;
  /** Orders still not final at the settle deadline (only when the scenario did not settle). */
  notSettled?: string;
  byStatus: Record<string, number>;
}

/** The service logs up to the end of a scenario (gitignored), so that a failure seen later can be read in full. */
export function writeScenarioLog(scenario: string, logs: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${scenario}.log`);
  writeFileSync(path, logs);
  return path;
}

export function writeResults(results: ScenarioResult[], file: string): string {
  const dir = RESULTS_DIR;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  const doc = {
    date: new Date().toISOString(),
    mode: MODE,
    loadMsPerScenario: LOAD_MS,
    ratePerSecond: RATE_PER_SECOND,
    sagaTimeoutMs: SAGA_TIMEOUT_MS,
    scenarios: results,
  };
  writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  return path;
}

export function formatResults(results: ScenarioResult[]): string {
  const head = [
    'scenario',
    'accepted',
    'faults',
    'final',
    'breaches',
    'dup',
    'absorbed',
    'dlq',
    'real dlq',
    'settle ms',
    'retries',
  ];
  const rows = results.map((r) => [
    r.scenario,
    r.ordersAccepted,
    r.faultsInjected,
    r.ordersFinal,
    r.invariantBreaches,
    r.duplicatesApplied,
    r.duplicatesAbsorbed,
    r.messagesDeadLettered,
    r.realMessagesDeadLettered,
    r.timeToSettleMs,
    r.clientRetries,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: unknown[]) => cells.map((c, i) => String(c).padEnd(widths[i]!)).join('  ');
  return [`fault suite (${MODE})`, line(head), ...rows.map(line)].join('\n');
}
