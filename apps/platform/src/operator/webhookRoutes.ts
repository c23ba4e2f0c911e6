/**
 * Webhook endpoints and their delivery log, for admins (docs/webhooks.md): /admin/webhooks on the order service.
 * A URL that breaks a safety rule is refused with a 400 problem naming the rule.
 */
import { randomUUID } from 'node:crypto';
import { type Database, HttpProblem, type Logger, type WebhookSettings } from '@commerce/kernel';
import {
  deleteEndpoint,
  deliveryLog,
  encryptSecret,
  eventFilterProblem,
  findEndpoint,
  insertEndpoint,
  insertTestDelivery,
  listEndpoints,
  newWebhookSecret,
  redeliverFailed,
  redeliverOne,
  replaceSecret,
  setEndpointEnabled,
  targetProblem,
  UNSAFE_RULE_TEXT,
  WEBHOOK_TEST_EVENT,
  webhookBody,
} from '@commerce/order';
import type { FastifyInstance } from 'fastify';
import {
  CreateWebhookBody as CreateBody,
  type CreateWebhookBody,
  DeliveryIdParam,
  DeliveryQuery,
  EndpointIdParam,
  RedeliverBody,
  WEBHOOK_DOCS,
} from './webhookSchemas.js';

/** How long a rotated-out secret stays valid (and is signed with too). */
export const SECRET_OVERLAP_MS = 24 * 3_600_000;

export interface WebhookRouteDeps {
  db: Database;
  settings: WebhookSettings;
  log: Logger;
}

export async function registerWebhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): Promise<void> {
  const { db, settings } = deps;
  const tags = ['webhooks'];
  const admin = (operationId: keyof typeof WEBHOOK_DOCS, summary: string, schema: Record<string, unknown> = {}) => ({
    config: { auth: 'admin' as const, openapi: WEBHOOK_DOCS[operationId] },
    schema: { tags, operationId, summary, ...schema },
  });
  const key = () => {
    if (!settings.secretKey)
      throw new HttpProblem(
        503,
        'Service Unavailable',
        'WEBHOOK_SECRET_KEY is not set: a distributed deployment needs it to store webhook secrets (docs/webhooks.md)',
      );
    return settings.secretKey;
  };
  const endpoint = async (endpointId: string) => {
    const e = await findEndpoint(db, endpointId);
    if (!e) throw HttpProblem.notFound(`no webhook endpoint ${endpointId}`);
    return e;
  };

  app.post(
    '/admin/webhooks',
    admin('createWebhook', 'Register a webhook endpoint', { body: CreateBody }),
    async (req, reply) => {
      const b = req.body as CreateWebhookBody;
      const eventTypes = b.eventTypes ?? ['*'];
      const filter = eventFilterProblem(eventTypes);
      if (filter) throw HttpProblem.badRequest(`eventTypes: ${filter}`, [{ field: '/eventTypes', message: filter }]);
      const rule = await targetProblem(b.url, settings);
      if (rule)
        throw new HttpProblem(
          400,
          'Bad Request',
          `url refused by the rule ${rule}: ${UNSAFE_RULE_TEXT[rule]}`,
          [{ field: '/url', message: UNSAFE_RULE_TEXT[rule] }],
          undefined,
          { rule },
        );
      const secret = newWebhookSecret();
      const created = await insertEndpoint(db, {
        endpointId: randomUUID(),
        url: b.url,
        eventTypes,
        customerId: b.customerId ?? null,
        description: b.description ?? '',
        secretEnc: encryptSecret(key(), secret),
        now: new Date(),
      });
      deps.log.info({ endpointId: created.endpointId, url: created.url }, 'webhook endpoint registered');
      return reply.code(201).send({ ...created, secret });
    },
  );
  app.get('/admin/webhooks', admin('listWebhooks', 'Webhook endpoints'), async () => ({
    items: await listEndpoints(db),
  }));
  app.get(
    '/admin/webhooks/deliveries',
    admin('listWebhookDeliveries', 'The delivery log, per endpoint and/or per order', { querystring: DeliveryQuery }),
    async (req) => {
      const q = req.query as { endpointId?: string; orderId?: string; status?: string; limit?: number };
      return { items: await deliveryLog(db, { ...q, limit: q.limit ?? 100 }) };
    },
  );
  app.get(
    '/admin/webhooks/:endpointId',
    admin('getWebhook', 'One webhook endpoint', { params: EndpointIdParam }),
    async (req) => endpoint((req.params as { endpointId: string }).endpointId),
  );
  app.delete(
    '/admin/webhooks/:endpointId',
    admin('removeWebhook', 'Remove a webhook endpoint', { params: EndpointIdParam }),
    async (req, reply) => {
      const { endpointId } = req.params as { endpointId: string };
      if (!(await deleteEndpoint(db, endpointId))) throw HttpProblem.notFound(`no webhook endpoint ${endpointId}`);
      return reply.code(204).send();
    },
  );
  for (const [action, enabled] of [
    ['disable', false],
    ['enable', true],
  ] as const)
    app.post(
      `/admin/webhooks/:endpointId/${action}`,
      admin(enabled ? 'enableWebhook' : 'disableWebhook', `${enabled ? 'Enable' : 'Disable'} a webhook endpoint`, {
        params: EndpointIdParam,
      }),
      async (req) => {
        const { endpointId } = req.params as { endpointId: string };
        if (!(await setEndpointEnabled(db, endpointId, enabled, 'disabled by an operator', new Date())))
          throw HttpProblem.notFound(`no webhook endpoint ${endpointId}`);
        return endpoint(endpointId);
      },
    );
  app.post(
    '/admin/webhooks/:endpointId/rotate-secret',
    admin('rotateWebhookSecret', "Replace an endpoint's secret; the old one stays valid for 24 h", {
      params: EndpointIdParam,
    }),
    async (req) => {
      const { endpointId } = req.params as { endpointId: string };
      const secret = newWebhookSecret();
      const now = new Date();
      const until = new Date(now.getTime() + SECRET_OVERLAP_MS);
      if (!(await replaceSecret(db, endpointId, encryptSecret(key(), secret), until, now)))
        throw HttpProblem.notFound(`no webhook endpoint ${endpointId}`);
      return { endpointId, secret, previousSecretUntil: until.toISOString() };
    },
  );
  app.post(
    '/admin/webhooks/:endpointId/test',
    admin('testWebhook', 'Send a WEBHOOK_TEST delivery', { params: EndpointIdParam }),
    async (req, reply) => {
      const { endpointId } = req.params as { endpointId: string };
      await endpoint(endpointId);
      const eventId = randomUUID();
      const now = new Date();
      const body = webhookBody({
        eventId,
        eventType: WEBHOOK_TEST_EVENT,
        orderId: null,
        occurredAt: now.toISOString(),
        version: null,
        data: {},
      });
      const deliveryId = await insertTestDelivery(db, {
        endpointId,
        eventId,
        eventType: WEBHOOK_TEST_EVENT,
        body,
        now,
      });
      return reply.code(202).send({ deliveryId, eventId });
    },
  );
  app.post(
    '/admin/webhooks/:endpointId/redeliver',
    admin('redeliverWebhook', "Send an endpoint's failed deliveries again", {
      params: EndpointIdParam,
      body: RedeliverBody,
    }),
    async (req, reply) => {
      const { endpointId } = req.params as { endpointId: string };
      await endpoint(endpointId);
      const since = new Date((req.body as { since: string }).since);
      return reply.code(202).send({ redelivered: await redeliverFailed(db, endpointId, since, new Date()) });
    },
  );
  app.post(
    '/admin/webhooks/deliveries/:deliveryId/redeliver',
    admin('redeliverDelivery', 'Send one finished delivery again', { params: DeliveryIdParam }),
    async (req, reply) => {
      const { deliveryId } = req.params as { deliveryId: string };
      if (!(await redeliverOne(db, Number(deliveryId), new Date())))
        throw HttpProblem.notFound(`no finished webhook delivery ${deliveryId}`);
      return reply.code(202).send({ redelivered: 1 });
    },
  );
}
