/**
 * `commerce` — the operator CLI (SPEC §7). Talks to the databases directly when their URLs are set, and to the
 * running platform's admin routes otherwise (the embedded PGlite data can be open in one process only).
 */
import { parseArgs } from 'node:util';
import { createCommerceClient } from '@commerce/client';
import { ConfigError, loadSettings, outboxStatus, PgDatabase, signToken } from '@commerce/kernel';
import { rebuildOrderProjections } from '@commerce/order';
import { ARCHIVE_HELP, runArchiveCli } from './archiveCli.js';
import { adminToken, api, secretOf, UsageError } from './cliHttp.js';
import { type AuditReport, formatAudit, runAudit } from './operator/audit.js';
import { PROJECTIONS_HELP, runProjectionsCli } from './projectionsCli.js';
import { REVIEW_HELP, runReviewCli } from './reviewCli.js';
import { DEMO_CUSTOMERS, DEMO_PRODUCTS } from './seed.js';
import { runWebhooksCli, WEBHOOKS_HELP } from './webhooksCli.js';

const HELP: Record<string, string> = {
  main: `commerce <verb> [options]

verbs:
  seed                       create the demo products and customers (through the admin API)
  token --sub ID --role R    print a signed bearer token (R: customer | admin)
  audit                      check the invariants of SPEC §9 across the three databases; exit 1 on any breach
  dlq list|show|replay|discard   inspect and act on dead-lettered messages
  replay projections         rebuild the order read model from the event store
  projections list|rebuild NAME   checkpoints, lag and state of the projections; rebuild one without downtime
  archive --older-than 90d   move the event streams of orders final that long into the archive
  outbox status              unpublished rows and lag per service
  compensation retry ID      re-request the missing rollbacks of a COMPENSATION_FAILED order
  review list|approve|reject ID   the risk review queue: orders UNDER_REVIEW, and an admin's decision
  webhooks add|list|show|disable|enable|remove|rotate-secret|test|redeliver|log   webhook endpoints and deliveries

common options: --url URL (order service, default http://127.0.0.1:$ORDER_PORT), --token T (default: $COMMERCE_TOKEN
or an admin token made from JWT_SECRET / the embedded secret under DATA_DIR), --json, --help`,
  seed: `commerce seed [--inventory-url URL] [--payment-url URL] [--token T]
  creates or replaces the demo products (${DEMO_PRODUCTS.map((p) => p.productId).join(', ')}) and customers (${DEMO_CUSTOMERS.map((c) => c.customerId).join(', ')})`,
  token: `commerce token --sub ID --role customer|admin [--ttl SECONDS]
  signs with JWT_SECRET, or the embedded default's secret under DATA_DIR; valid --ttl seconds (default 3600, one hour;
  at most 2678400, 31 days)`,
  audit: `commerce audit [--json] [--max-age-ms N]
  reads ORDER_/INVENTORY_/PAYMENT_DATABASE_URL directly when set, else asks the running platform (--url).
  An order not final after --max-age-ms (default 2 × SAGA_TIMEOUT_MS + 60 s; UNDER_REVIEW: + REVIEW_TIMEOUT_MS) counts as a breach. Exit 1 on any breach.`,
  dlq: `commerce dlq list [QUEUE] [--json]        queues with dead letters, or the letters of one queue
commerce dlq show QUEUE ID [--json]
commerce dlq replay QUEUE ID                sends the message back to QUEUE only
commerce dlq discard QUEUE ID`,
  replay: `commerce replay projections   rebuild the order read model from the event store (ORDER_DATABASE_URL, or --url)`,
  projections: PROJECTIONS_HELP,
  archive: ARCHIVE_HELP,
  outbox: `commerce outbox status [--json]   unpublished rows, oldest age and failing rows per service`,
  compensation: `commerce compensation retry ORDER_ID`,
  review: REVIEW_HELP,
  webhooks: WEBHOOKS_HELP,
};

const options = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  'inventory-url': { type: 'string' },
  'payment-url': { type: 'string' },
  token: { type: 'string' },
  sub: { type: 'string' },
  role: { type: 'string' },
  ttl: { type: 'string' },
  'max-age-ms': { type: 'string' },
  'older-than': { type: 'string' },
  ...Object.fromEntries(
    ['events', 'customer', 'description', 'endpoint', 'order', 'since', 'delivery'].map((k) => [k, { type: 'string' }]),
  ),
} as const;

/**
 * The data of a call made through @commerce/client; an unreachable service or an error answer is a UsageError
 * (exit 2) naming the call and the problem's detail.
 */
async function answer<T>(
  what: string,
  base: string,
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await call;
  } catch (err) {
    throw new UsageError(
      `cannot reach ${base} (${(err as Error).cause ?? (err as Error).message}): is the platform running? (--url)`,
    );
  }
  if (r.response.status >= 400) {
    const detail = (r.error as { detail?: string } | undefined)?.detail ?? JSON.stringify(r.error ?? '');
    throw new UsageError(`${what} answered ${r.response.status}: ${detail}`);
  }
  return r.data as T;
}

function print(value: unknown, json: boolean, text: () => string) {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
}

async function withDb<T>(url: string, fn: (db: PgDatabase) => Promise<T>): Promise<T> {
  const db = new PgDatabase({ url, poolSize: 2 });
  try {
    await db.ping().catch((err) => {
      throw new UsageError(`cannot reach database ${new URL(url).pathname.slice(1)}: ${(err as Error).message}`);
    });
    return await fn(db);
  } finally {
    await db.close().catch(() => {});
  }
}

export async function runCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  const [verb, ...rest] = positionals;
  if (!verb || verb === 'help') {
    console.log(HELP.main);
    return verb ? 0 : values.help ? 0 : 2;
  }
  if (values.help) {
    console.log(HELP[verb] ?? HELP.main);
    return 0;
  }
  const settings = loadSettings({ ...process.env, AUTH_DISABLED: process.env.AUTH_DISABLED || 'true' }, []);
  const orderUrl = values.url ?? `http://127.0.0.1:${settings.ports.order}`;
  /** The order service's typed client (@commerce/client), with an admin token. */
  const adminApi = async () =>
    createCommerceClient({ orderUrl, token: await adminToken(settings, values.token) }).order;
  const json = values.json ?? false;
  const urls = settings.databaseUrls;

  switch (verb) {
    case 'token': {
      if (!values.sub || !/^[A-Za-z0-9._-]{1,64}$/.test(values.sub))
        throw new UsageError('--sub: expected 1–64 characters of [A-Za-z0-9._-]');
      if (values.role !== 'customer' && values.role !== 'admin')
        throw new UsageError('--role: expected customer or admin');
      const ttl = values.ttl === undefined ? 3600 : Number(values.ttl);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 31 * 86_400)
        throw new UsageError('--ttl: expected seconds from 1 to 2678400');
      console.log(
        await signToken({ secret: await secretOf(settings), sub: values.sub, role: values.role, ttlSeconds: ttl }),
      );
      return 0;
    }
    case 'seed': {
      const token = await adminToken(settings, values.token);
      const inv = values['inventory-url'] ?? `http://127.0.0.1:${settings.ports.inventory}`;
      const pay = values['payment-url'] ?? `http://127.0.0.1:${settings.ports.payment}`;
      const { inventory, payment } = createCommerceClient({ orderUrl, inventoryUrl: inv, paymentUrl: pay, token });
      for (const { productId, ...body } of DEMO_PRODUCTS)
        await answer(
          'PUT /products/{productId}',
          inv,
          inventory.PUT('/products/{productId}', { params: { path: { productId } }, body }),
        );
      for (const { customerId, ...body } of DEMO_CUSTOMERS)
        await answer(
          'PUT /customers/{customerId}',
          pay,
          payment.PUT('/customers/{customerId}', { params: { path: { customerId } }, body }),
        );
      console.log(`seeded ${DEMO_PRODUCTS.length} products and ${DEMO_CUSTOMERS.length} customers`);
      return 0;
    }
    case 'audit': {
      const maxAgeMs = values['max-age-ms'] === undefined ? undefined : Number(values['max-age-ms']);
      if (maxAgeMs !== undefined && (!Number.isInteger(maxAgeMs) || maxAgeMs < 0))
        throw new UsageError('--max-age-ms: expected a whole number of milliseconds');
      let report: AuditReport;
      if (urls.order && urls.inventory && urls.payment) {
        const [o, i, p] = [urls.order, urls.inventory, urls.payment];
        report = await withDb(o, (order) =>
          withDb(i, (inventory) =>
            withDb(p, (payment) =>
              runAudit(
                { order, inventory, payment },
                {
                  now: new Date(),
                  maxAgeMs,
                  sagaTimeoutMs: settings.sagaTimeoutMs,
                  reviewTimeoutMs: settings.reviewTimeoutMs,
                },
              ),
            ),
          ),
        );
      } else {
        const query = maxAgeMs === undefined ? {} : { maxAgeMs: String(maxAgeMs) };
        report = await answer(
          'GET /admin/audit',
          orderUrl,
          (await adminApi()).GET('/admin/audit', { params: { query } }),
        );
      }
      print(report, json, () => formatAudit(report));
      return report.breaches.length === 0 ? 0 : 1;
    }
    case 'dlq': {
      const [action, queue, id] = rest;
      const api = await adminApi();
      const q = (s: string | undefined, what: string) => {
        if (!s) throw new UsageError(`dlq ${action}: missing ${what}\n${HELP.dlq}`);
        return s;
      };
      if (action === 'list' && !queue) {
        const r = await answer('GET /admin/dead-letters', orderUrl, api.GET('/admin/dead-letters'));
        print(r, json, () =>
          r.queues.length ? r.queues.map((x) => `${x.queue}.dlq\t${x.depth}`).join('\n') : 'no dead-letter queues',
        );
      } else if (action === 'list') {
        const path = { queue: q(queue, 'QUEUE') };
        const r = await answer(
          'GET /admin/dead-letters/{queue}',
          orderUrl,
          api.GET('/admin/dead-letters/{queue}', { params: { path } }),
        );
        print(r, json, () =>
          r.items.length
            ? r.items.map((l) => `${l.id}\t${l.deadLetteredAt}\tattempts=${l.attempts}\t${l.reason}`).join('\n')
            : `${queue}.dlq is empty`,
        );
      } else if (action === 'show') {
        const path = { queue: q(queue, 'QUEUE'), id: q(id, 'ID') };
        const r = await answer(
          'GET /admin/dead-letters/{queue}/{id}',
          orderUrl,
          api.GET('/admin/dead-letters/{queue}/{id}', { params: { path } }),
        );
        print(r, true, () => '');
      } else if (action === 'replay') {
        const path = { queue: q(queue, 'QUEUE'), id: q(id, 'ID') };
        await answer(
          'POST /admin/dead-letters/{queue}/{id}/replay',
          orderUrl,
          api.POST('/admin/dead-letters/{queue}/{id}/replay', { params: { path } }),
        );
        console.log(`replayed ${id} to ${queue}`);
      } else if (action === 'discard') {
        const path = { queue: q(queue, 'QUEUE'), id: q(id, 'ID') };
        await answer(
          'DELETE /admin/dead-letters/{queue}/{id}',
          orderUrl,
          api.DELETE('/admin/dead-letters/{queue}/{id}', { params: { path } }),
        );
        console.log(`discarded ${id} from ${queue}.dlq`);
      } else throw new UsageError(`dlq: unknown action ${JSON.stringify(action ?? '')}\n${HELP.dlq}`);
      return 0;
    }
    case 'replay': {
      if (rest[0] !== 'projections') throw new UsageError(`replay: expected "projections"\n${HELP.replay}`);
      const r = urls.order
        ? await withDb(urls.order, (db) => rebuildOrderProjections(db))
        : await answer(
            'POST /admin/projections/replay',
            orderUrl,
            (await adminApi()).POST('/admin/projections/replay'),
          );
      print(r, json, () => `rebuilt: ${JSON.stringify(r)}`);
      return 0;
    }
    case 'projections': {
      const token = urls.order ? '' : await adminToken(settings, values.token);
      return runProjectionsCli(rest, {
        json,
        orderDbUrl: urls.order,
        withDb,
        api: async (method, path) => (await api(orderUrl, token, method, path)).body,
        usage: (message) => new UsageError(message),
        out: process.stdout,
      });
    }
    case 'archive': {
      const token = urls.order ? '' : await adminToken(settings, values.token);
      return runArchiveCli({
        olderThan: values['older-than'],
        json,
        orderDbUrl: urls.order,
        withDb,
        api: async (method, path, body) => (await api(orderUrl, token, method, path, body)).body,
        usage: (message) => new UsageError(message),
        out: process.stdout,
      });
    }
    case 'outbox': {
      if (rest[0] !== 'status') throw new UsageError(`outbox: expected "status"\n${HELP.outbox}`);
      let services: Record<string, unknown> = {};
      if (urls.order || urls.inventory || urls.payment) {
        for (const [name, url] of Object.entries(urls))
          if (url) services[name] = await withDb(url, (db) => outboxStatus(db));
      } else {
        services = (await answer('GET /admin/outbox', orderUrl, (await adminApi()).GET('/admin/outbox'))).services;
      }
      print({ services }, json, () =>
        Object.entries(services)
          .map(
            ([n, s]) =>
              `${n.padEnd(10)} ${Object.entries(s as object)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}`,
          )
          .join('\n'),
      );
      return 0;
    }
    case 'compensation': {
      const [action, orderId] = rest;
      if (action !== 'retry' || !orderId) throw new UsageError(HELP.compensation);
      const r = await answer(
        'POST /admin/orders/{orderId}/retry-compensation',
        orderUrl,
        (await adminApi()).POST('/admin/orders/{orderId}/retry-compensation', { params: { path: { orderId } } }),
      );
      print(r, json, () => `compensation re-requested for ${orderId}`);
      return 0;
    }
    case 'review': {
      const token = await adminToken(settings, values.token);
      return runReviewCli(rest, {
        json,
        api: async (method, path) => (await api(orderUrl, token, method, path)).body,
        usage: (message) => new UsageError(message),
        out: process.stdout,
      });
    }
    case 'webhooks': {
      const token = await adminToken(settings, values.token);
      return runWebhooksCli(rest, {
        json,
        options: values as Record<string, string | undefined>,
        api: async (method, path, body) => (await api(orderUrl, token, method, path, body)).body,
        usage: (message) => new UsageError(message),
        out: process.stdout,
      });
    }
    default:
      throw new UsageError(`unknown verb ${JSON.stringify(verb)}\n${HELP.main}`);
  }
}

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (
      err instanceof UsageError ||
      err instanceof ConfigError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`commerce: ${(err as Error).message}`);
      process.exit(2);
    }
    console.error(`commerce: ${(err as Error).stack ?? err}`);
    process.exit(3);
  },
);
