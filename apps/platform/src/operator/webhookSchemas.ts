/** What the webhook admin routes take and answer (docs/webhooks.md), for validation and the OpenAPI document. */
import type { RouteDoc } from '@commerce/kernel';
import { type TSchema, Type } from '@sinclair/typebox';

const Nullable = (t: TSchema) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Uuid = Type.String({ format: 'uuid' });

export const EndpointIdParam = Type.Object({ endpointId: Uuid });
export const DeliveryIdParam = Type.Object({ deliveryId: Type.String({ pattern: '^[0-9]{1,18}$' }) });

export const CreateWebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2000, description: 'https URL that receives the POSTs' }),
    eventTypes: Type.Optional(
      Type.Array(Type.String({ pattern: '^(\\*|[A-Z_]{1,64})$' }), {
        minItems: 1,
        maxItems: 20,
        uniqueItems: true,
        description: 'order event types to send, or ["*"] (the default) for all',
      }),
    ),
    customerId: Type.Optional(
      Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$', description: "only this customer's orders" }),
    ),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = {
  url: string;
  eventTypes?: string[];
  customerId?: string;
  description?: string;
};

export const RedeliverBody = Type.Object(
  { since: Type.String({ format: 'date-time', description: 'failed deliveries created since this instant' }) },
  { additionalProperties: false },
);

export const DeliveryQuery = Type.Object({
  endpointId: Type.Optional(Uuid),
  orderId: Type.Optional(Uuid),
  status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')])),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});

const Endpoint = Type.Object(
  {
    endpointId: Uuid,
    url: Type.String(),
    eventTypes: Type.Array(Type.String()),
    customerId: Nullable(Type.String()),
    description: Type.String(),
    enabled: Type.Boolean(),
    disabledReason: Nullable(Type.String()),
    disabledAt: Nullable(DateTime),
    failingSince: Nullable(DateTime),
    previousSecretUntil: Nullable(DateTime),
    createdAt: DateTime,
    updatedAt: DateTime,
  },
  { title: 'WebhookEndpoint' },
);
const CreatedEndpoint = Type.Intersect(
  [Endpoint, Type.Object({ secret: Type.String({ description: 'whsec_…: shown this once, never again' }) })],
  { title: 'CreatedWebhookEndpoint' },
);
const Delivery = Type.Object(
  {
    deliveryId: Type.Integer(),
    endpointId: Uuid,
    eventId: Type.String({ description: 'the webhook-id header' }),
    eventType: Type.String(),
    orderId: Nullable(Type.String()),
    status: Type.Union([Type.Literal('pending'), Type.Literal('succeeded'), Type.Literal('failed')]),
    attempts: Type.Integer(),
    nextAttemptAt: Nullable(DateTime),
    lastError: Nullable(Type.String()),
    createdAt: DateTime,
    finishedAt: Nullable(DateTime),
    log: Type.Array(
      Type.Object({
        attempt: Type.Integer(),
        attemptedAt: DateTime,
        statusCode: Nullable(Type.Integer()),
        latencyMs: Type.Integer(),
        responseBody: Nullable(Type.String({ description: 'the first WEBHOOK_RESPONSE_BODY_LIMIT bytes' })),
        error: Nullable(Type.String()),
      }),
    ),
  },
  { title: 'WebhookDelivery' },
);
const Redelivered = Type.Object({ redelivered: Type.Integer() }, { title: 'WebhookRedelivery' });

const ok = (description: string, schema: TSchema, problems: number[] = []): RouteDoc => ({
  responses: { 200: { description, schema } },
  problems,
});
const accepted = (description: string, schema: TSchema, problems: number[] = []): RouteDoc => ({
  responses: { 202: { description, schema } },
  problems,
});

/** Each webhook route's documented answers, by operationId. */
export const WEBHOOK_DOCS = {
  createWebhook: {
    responses: { 201: { description: 'Created; the secret is in this answer only', schema: CreatedEndpoint } },
    problems: [503],
  },
  listWebhooks: ok('Every endpoint (never its secret)', Type.Object({ items: Type.Array(Endpoint) })),
  getWebhook: ok('One endpoint', Endpoint, [404]),
  removeWebhook: { responses: { 204: { description: 'Removed, with its deliveries and their log' } }, problems: [404] },
  disableWebhook: ok('Disabled: nothing is sent to it and new events are not queued for it', Endpoint, [404]),
  enableWebhook: ok('Enabled: its pending deliveries go out again', Endpoint, [404]),
  rotateWebhookSecret: ok(
    'The new secret (shown once); the old one stays valid, and is signed with too, until previousSecretUntil',
    Type.Object(
      { endpointId: Uuid, secret: Type.String(), previousSecretUntil: DateTime },
      { title: 'RotatedWebhookSecret' },
    ),
    [404, 503],
  ),
  testWebhook: accepted(
    'A WEBHOOK_TEST delivery was queued',
    Type.Object({ deliveryId: Type.Integer(), eventId: Uuid }, { title: 'WebhookTest' }),
    [404],
  ),
  redeliverWebhook: accepted("The endpoint's failed deliveries since then are pending again", Redelivered, [404]),
  redeliverDelivery: accepted('The delivery is pending again (same webhook-id)', Redelivered, [404]),
  listWebhookDeliveries: ok(
    'Deliveries, newest first, each with every attempt kept (time, status, latency, response, error)',
    Type.Object({ items: Type.Array(Delivery) }),
  ),
} satisfies Record<string, RouteDoc>;
