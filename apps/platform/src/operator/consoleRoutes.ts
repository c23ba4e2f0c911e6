import { Uuid } from '@commerce/contracts';
import type { Database, Logger, ServiceName, Settings } from '@commerce/kernel';
import { HttpProblem, readPartitionLeases, traceIdOf } from '@commerce/kernel';
import { FINAL_STATUSES, ORDER_STATUSES, readOrderEvents, recentCustomers } from '@commerce/order';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type FeedMessage, OrderFeed } from './consoleFeed.js';
import { registerConsoleFiles } from './consoleFiles.js';
import { OPERATOR_DOCS } from './operatorSchemas.js';

/** Peers the console reads through the order service: in-process when the launcher runs them, else by URL. */
export interface ConsolePeer {
  name: ServiceName;
  url: string;
  app?: Pick<FastifyInstance, 'inject'>;
}

export interface ConsoleDeps {
  /** The order service's database (read model, event store, partition leases). */
  db: Database;
  log: Logger;
  /** The services running in this process (read at request time: they start after the routes are registered). */
  peers: () => readonly ConsolePeer[];
  /**
   * ORDER_PARTITIONS, shown with the partition leases; INVENTORY_URL / PAYMENT_URL (peerUrls): where the other
   * services are when they run in other processes.
   */
  settings: Pick<Settings, 'orderPartitions' | 'peerUrls'>;
  feedIntervalMs?: number;
}

/** What the proxy forwards: read-only routes the console shows, nothing else. */
const PROXY_ALLOWED: Record<'inventory' | 'payment', RegExp> = {
  inventory: /^(products(\/[A-Za-z0-9._-]{1,64})?|admin\/reservations\/[0-9a-f-]{36}|admin\/stock-movements)$/i,
  payment: /^(customers\/[A-Za-z0-9._-]{1,64}|payments\/[0-9a-f-]{36}|admin\/money-movements|admin\/customers)$/i,
};

const OrderIdParams = Type.Object({ orderId: Uuid }, { additionalProperties: false });

/**
 * The operations console (docs/console.md), served by the order service: static files at /console (public — the
 * page holds no data; consoleFiles.ts), and admin-only data routes: the live feed (SSE over a streamed fetch that
 * carries the Authorization header), an order's timeline with its trace id, partitions, the peers' URLs and a
 * read-only proxy to inventory and payment (so the browser talks to one origin: no CORS). Every read goes through
 * the order service's exported queries or the kernel's, never its tables.
 */
export async function registerConsoleRoutes(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const feed = new OrderFeed(deps.db, deps.log, { intervalMs: deps.feedIntervalMs });
  const open = new Set<FastifyReply>();
  app.addHook('preClose', async () => {
    feed.close();
    for (const reply of open) reply.raw.end();
    open.clear();
  });

  await registerConsoleFiles(app);

  const tags = ['console'];
  const admin = (operationId: keyof typeof OPERATOR_DOCS, summary: string, rateLimit?: false) => ({
    config: {
      auth: 'admin' as const,
      openapi: OPERATOR_DOCS[operationId],
      ...(rateLimit === false ? { rateLimit } : {}),
    },
    schema: { tags, operationId, summary },
  });

  app.get('/admin/console-config', admin('getConsoleConfig', "The console's settings"), async () => ({
    inventoryUrl: peerUrl(deps, 'inventory') ?? null,
    paymentUrl: peerUrl(deps, 'payment') ?? null,
    orderPartitions: deps.settings.orderPartitions,
    // The order domain's lists, so that the page keeps no copy of them.
    orderStatuses: ORDER_STATUSES,
    finalStatuses: [...FINAL_STATUSES],
  }));

  app.get(
    '/admin/feed',
    admin('streamConsoleFeed', 'Live feed of order changes (Server-Sent Events)', false),
    async (req, reply) => {
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        connection: 'keep-alive',
      });
      raw.write('retry: 2000\n\n');
      const send = (m: FeedMessage) => raw.write(`event: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`);
      open.add(reply);
      let unsubscribe: (() => void) | undefined;
      const heartbeat = setInterval(() => raw.write(': ping\n\n'), 15_000);
      const done = () => {
        clearInterval(heartbeat);
        unsubscribe?.();
        open.delete(reply);
      };
      req.raw.on('close', done);
      try {
        unsubscribe = await feed.subscribe(send);
        if (raw.destroyed || raw.writableEnded) done();
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'console feed could not start');
        raw.end(`event: error\ndata: ${JSON.stringify({ detail: 'the feed could not start; retrying' })}\n\n`);
        done();
      }
    },
  );

  app.get(
    '/admin/console/orders/:orderId',
    (() => {
      const o = admin('getOrderTimeline', "An order's timeline");
      return { ...o, schema: { ...o.schema, params: OrderIdParams } };
    })(),
    async (req: FastifyRequest) => {
      const { orderId } = req.params as { orderId: string };
      const events = await readOrderEvents(deps.db, orderId);
      if (events.length === 0) throw HttpProblem.notFound(`order ${orderId} does not exist`);
      const timeline = events.map((e) => ({
        eventId: e.eventId,
        type: e.eventType,
        version: e.version,
        occurredAt: e.occurredAt,
        recordedAt: e.recordedAt,
        source: typeof e.metadata.source === 'string' ? e.metadata.source : 'order',
        causationId: e.metadata.causationId ?? null,
        traceId: traceIdOf(e.metadata.traceparent) ?? null,
        data: e.data,
      }));
      const traceIds = [...new Set(timeline.map((e) => e.traceId).filter((t): t is string => t !== null))];
      return { orderId, traceId: traceIds[0] ?? null, traceIds, events: timeline };
    },
  );

  app.get('/admin/console/customers', admin('listRecentCustomers', 'Customers with recent orders'), async () => ({
    customerIds: await recentCustomers(deps.db, 100),
  }));

  app.get('/admin/console/partitions', admin('getPartitions', 'Order partitions and their owners'), async () => {
    const count = deps.settings.orderPartitions;
    const leases = await readPartitionLeases(deps.db);
    return leases ? { mode: 'leases', count, ...leases } : { mode: 'static', count, leases: [], members: [] };
  });

  app.get(
    '/admin/proxy/:service/*',
    {
      ...admin('proxyRead', 'Read-only proxy to the inventory and payment services'),
      schema: {
        ...admin('proxyRead', '').schema,
        summary: 'Read-only proxy to the inventory and payment services',
        params: Type.Object({
          service: Type.Union([Type.Literal('inventory'), Type.Literal('payment')]),
          '*': Type.String(),
        }),
      },
    },
    async (req, reply) => {
      const { service, '*': path } = req.params as { service: 'inventory' | 'payment'; '*': string };
      if (!PROXY_ALLOWED[service].test(path))
        throw HttpProblem.notFound(`the console proxy does not forward ${service} /${path}`);
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      const target = `/${path}${query}`;
      const headers: Record<string, string> = { accept: 'application/json' };
      if (req.headers.authorization) headers.authorization = req.headers.authorization;
      if (typeof req.headers.traceparent === 'string') headers.traceparent = req.headers.traceparent;
      const local = deps.peers().find((p) => p.name === service && p.app);
      if (local?.app) {
        const res = await local.app.inject({ method: 'GET', url: target, headers });
        return reply
          .code(res.statusCode)
          .type(String(res.headers['content-type'] ?? 'application/json'))
          .send(res.body);
      }
      const base = peerUrl(deps, service);
      if (!base)
        throw new HttpProblem(
          503,
          'Service Unavailable',
          `the ${service} service is not in this process and ${service.toUpperCase()}_URL is not set`,
        );
      let res: Response;
      try {
        res = await fetch(`${base.replace(/\/+$/, '')}${target}`, { headers, signal: AbortSignal.timeout(5000) });
      } catch (err) {
        req.log.warn({ service, err: (err as Error).message }, 'console proxy: peer unreachable');
        throw new HttpProblem(502, 'Bad Gateway', `the ${service} service did not answer`);
      }
      return reply
        .code(res.status)
        .type(res.headers.get('content-type') ?? 'application/json')
        .send(await res.text());
    },
  );
}

function peerUrl(deps: ConsoleDeps, name: 'inventory' | 'payment'): string | undefined {
  const local = deps.peers().find((p) => p.name === name);
  if (local) return local.url;
  return deps.settings.peerUrls[name];
}
