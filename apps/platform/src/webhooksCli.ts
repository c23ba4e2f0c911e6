/**
 * `commerce webhooks add|list|show|disable|enable|remove|rotate-secret|test|redeliver|log` (docs/webhooks.md):
 * through the running platform's admin API (/admin/webhooks), which holds the encryption key of the secrets.
 */

export interface WebhooksCliDeps {
  json: boolean;
  /** --events A,B (or *), --customer ID, --description TEXT, --endpoint ID, --order ID, --since ISO, --delivery N */
  options: {
    events?: string;
    customer?: string;
    description?: string;
    endpoint?: string;
    order?: string;
    since?: string;
    delivery?: string;
  };
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  usage(message: string): Error;
  out: NodeJS.WriteStream;
}

export const WEBHOOKS_HELP = `commerce webhooks add URL [--events ORDER_COMPLETED,ORDER_CANCELLED|*] [--customer ID] [--description TEXT]
    registers an endpoint and prints its secret (whsec_…) once
commerce webhooks list | show ID | disable ID | enable ID | remove ID
commerce webhooks rotate-secret ID   a new secret; the old one stays valid (both signatures sent) for 24 h
commerce webhooks test ID            sends a WEBHOOK_TEST delivery
commerce webhooks redeliver --endpoint ID --since ISO-TIME   failed deliveries since then, again
commerce webhooks redeliver --delivery N                     one delivery again (same webhook-id)
commerce webhooks log [--endpoint ID] [--order ORDER_ID]     deliveries with every attempt (time, status, latency, error)
  all take --json`;

interface Endpoint {
  endpointId: string;
  url: string;
  eventTypes: string[];
  customerId: string | null;
  description: string;
  enabled: boolean;
  disabledReason: string | null;
  secret?: string;
}
interface Delivery {
  deliveryId: number;
  endpointId: string;
  eventId: string;
  eventType: string;
  orderId: string | null;
  status: string;
  attempts: number;
  lastError: string | null;
  log: { attempt: number; attemptedAt: string; statusCode: number | null; latencyMs: number; error: string | null }[];
}

const line = (e: Endpoint) =>
  `${e.endpointId}  ${e.enabled ? 'enabled ' : 'disabled'}  ${e.url}  events=${e.eventTypes.join(',')}${e.customerId ? ` customer=${e.customerId}` : ''}${e.description ? `  "${e.description}"` : ''}${e.disabledReason ? `  (${e.disabledReason})` : ''}`;

function formatLog(items: Delivery[]): string {
  if (items.length === 0) return 'no deliveries';
  return items
    .map((d) =>
      [
        `#${d.deliveryId} ${d.status.padEnd(9)} ${d.eventType} order=${d.orderId ?? '-'} webhook-id=${d.eventId} endpoint=${d.endpointId}`,
        ...d.log.map(
          (a) =>
            `    attempt ${a.attempt}  ${a.attemptedAt}  ${a.statusCode ?? '---'}  ${a.latencyMs} ms${a.error ? `  ${a.error}` : ''}`,
        ),
      ].join('\n'),
    )
    .join('\n');
}

export async function runWebhooksCli(args: string[], d: WebhooksCliDeps): Promise<number> {
  const [action, arg] = args;
  const print = (value: unknown, text: () => string) =>
    d.out.write(d.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
  const id = () => {
    if (!arg) throw d.usage(`webhooks ${action}: missing ID\n${WEBHOOKS_HELP}`);
    return encodeURIComponent(arg);
  };
  const o = d.options;
  switch (action) {
    case 'add': {
      if (!arg) throw d.usage(`webhooks add: missing URL\n${WEBHOOKS_HELP}`);
      const body = {
        url: arg,
        ...(o.events ? { eventTypes: o.events.split(',').map((s) => s.trim()) } : {}),
        ...(o.customer ? { customerId: o.customer } : {}),
        ...(o.description ? { description: o.description } : {}),
      };
      const e = (await d.api('POST', '/admin/webhooks', body)) as Endpoint;
      print(e, () => `${line(e)}\nsecret: ${e.secret}  (shown once: store it now)`);
      return 0;
    }
    case 'list': {
      const r = (await d.api('GET', '/admin/webhooks')) as { items: Endpoint[] };
      print(r, () => (r.items.length ? r.items.map(line).join('\n') : 'no webhook endpoints'));
      return 0;
    }
    case 'show': {
      const e = (await d.api('GET', `/admin/webhooks/${id()}`)) as Endpoint;
      print(e, () => JSON.stringify(e, null, 2));
      return 0;
    }
    case 'disable':
    case 'enable': {
      const e = (await d.api('POST', `/admin/webhooks/${id()}/${action}`)) as Endpoint;
      print(e, () => line(e));
      return 0;
    }
    case 'remove': {
      await d.api('DELETE', `/admin/webhooks/${id()}`);
      print({ removed: arg }, () => `removed ${arg}`);
      return 0;
    }
    case 'rotate-secret': {
      const r = (await d.api('POST', `/admin/webhooks/${id()}/rotate-secret`)) as {
        secret: string;
        previousSecretUntil: string;
      };
      print(r, () => `secret: ${r.secret}  (shown once; the previous one stays valid until ${r.previousSecretUntil})`);
      return 0;
    }
    case 'test': {
      const r = (await d.api('POST', `/admin/webhooks/${id()}/test`)) as { deliveryId: number; eventId: string };
      print(
        r,
        () =>
          `test delivery #${r.deliveryId} queued (webhook-id ${r.eventId}); see: commerce webhooks log --endpoint ${arg}`,
      );
      return 0;
    }
    case 'redeliver': {
      if (o.delivery) {
        if (!/^\d{1,18}$/.test(o.delivery)) throw d.usage('--delivery: expected a delivery number');
        const r = await d.api('POST', `/admin/webhooks/deliveries/${o.delivery}/redeliver`);
        print(r, () => `delivery #${o.delivery} is pending again`);
        return 0;
      }
      if (!o.endpoint || !o.since)
        throw d.usage(`webhooks redeliver: expected --endpoint ID --since ISO-TIME, or --delivery N\n${WEBHOOKS_HELP}`);
      if (Number.isNaN(Date.parse(o.since)))
        throw d.usage('--since: expected an ISO 8601 time, e.g. 2026-01-31T12:00:00Z');
      const r = (await d.api('POST', `/admin/webhooks/${encodeURIComponent(o.endpoint)}/redeliver`, {
        since: new Date(o.since).toISOString(),
      })) as { redelivered: number };
      print(r, () => `${r.redelivered} failed deliveries are pending again`);
      return 0;
    }
    case 'log': {
      const q = new URLSearchParams({ limit: '100' });
      if (o.endpoint) q.set('endpointId', o.endpoint);
      if (o.order) q.set('orderId', o.order);
      const r = (await d.api('GET', `/admin/webhooks/deliveries?${q}`)) as { items: Delivery[] };
      print(r, () => formatLog(r.items));
      return 0;
    }
    default:
      throw d.usage(`webhooks: unknown action ${JSON.stringify(action ?? '')}\n${WEBHOOKS_HELP}`);
  }
}
