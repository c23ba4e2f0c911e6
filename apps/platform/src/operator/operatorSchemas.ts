/**
 * What the operator routes answer, for the order service's OpenAPI document only (`config.openapi`): the routes send
 * these shapes without a response schema, so nothing here filters or coerces an answer. The response-validation
 * check of the e2e suites holds the two together.
 */
import type { RouteDoc } from '@commerce/kernel';
import { type TSchema, Type } from '@sinclair/typebox';

const Nullable = (t: TSchema) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });

const DeadLetter = Type.Object(
  {
    id: Type.String({ description: 'stable id for show, replay and discard (the message id when it had one)' }),
    queue: Type.String(),
    reason: Type.String(),
    attempts: Type.Integer(),
    deadLetteredAt: Type.String(),
    exchange: Type.Optional(Type.String()),
    routingKey: Type.Optional(Type.String()),
    body: Type.String({ description: 'the raw body as received (may not be JSON)' }),
  },
  { title: 'DeadLetter' },
);
const DeadLetterQueues = Type.Object(
  {
    queues: Type.Array(Type.Object({ queue: Type.String(), depth: Type.Integer() })),
    consumerQueues: Type.Array(Type.String(), { description: 'every consumer queue of the platform' }),
  },
  { title: 'DeadLetterQueues' },
);
const OutboxStatus = Type.Object(
  {
    unpublished: Type.Integer(),
    oldestUnpublishedAgeMs: Type.Integer(),
    failing: Type.Integer(),
    published: Type.Integer(),
  },
  { title: 'OutboxStatus' },
);
const AuditReport = Type.Object(
  {
    ok: Type.Boolean(),
    checkedAt: DateTime,
    counts: Type.Object({
      orders: Type.Integer(),
      final: Type.Integer(),
      inFlight: Type.Integer(),
      products: Type.Integer(),
      customers: Type.Integer(),
    }),
    breaches: Type.Array(
      Type.Object({
        invariant: Type.Union([1, 2, 3, 4, 5].map((n) => Type.Literal(n))),
        message: Type.String(),
        orderId: Type.Optional(Type.String()),
        productId: Type.Optional(Type.String()),
        customerId: Type.Optional(Type.String()),
      }),
    ),
    warnings: Type.Array(Type.String()),
  },
  { title: 'AuditReport' },
);
const ConsoleConfig = Type.Object(
  {
    inventoryUrl: Nullable(Type.String()),
    paymentUrl: Nullable(Type.String()),
    orderPartitions: Type.Integer(),
    orderStatuses: Type.Array(Type.String()),
    finalStatuses: Type.Array(Type.String()),
  },
  { title: 'ConsoleConfig' },
);
const Timeline = Type.Object(
  {
    orderId: Type.String({ format: 'uuid' }),
    traceId: Nullable(Type.String()),
    traceIds: Type.Array(Type.String()),
    events: Type.Array(
      Type.Object({
        eventId: Type.String(),
        type: Type.String(),
        version: Type.Integer(),
        occurredAt: Type.String(),
        recordedAt: Type.String(),
        source: Type.String(),
        causationId: Nullable(Type.String()),
        traceId: Nullable(Type.String()),
        data: Type.Unknown(),
      }),
    ),
  },
  { title: 'OrderTimeline' },
);
const Partitions = Type.Object(
  {
    mode: Type.Union([Type.Literal('leases'), Type.Literal('static')]),
    count: Type.Integer(),
    leases: Type.Array(
      Type.Object({
        partition: Type.Integer(),
        owner: Nullable(Type.String()),
        expiresAt: DateTime,
        live: Type.Boolean(),
      }),
    ),
    members: Type.Array(Type.Object({ instanceId: Type.String(), heartbeatAt: DateTime, ageMs: Type.Number() })),
  },
  { title: 'Partitions' },
);

const ok = (description: string, schema: TSchema): RouteDoc => ({ responses: { 200: { description, schema } } });

/** Each operator route's documented answers, by operationId. */
export const OPERATOR_DOCS = {
  listDeadLetterQueues: ok('Queues with a dead-letter queue, with their depth', DeadLetterQueues),
  listDeadLetters: ok('Up to 100 dead letters of the queue', Type.Object({ items: Type.Array(DeadLetter) })),
  getDeadLetter: { ...ok('One dead letter', DeadLetter), problems: [404] },
  replayDeadLetter: {
    responses: {
      202: {
        description: 'Sent back to its queue',
        schema: Type.Object({ replayed: Type.String(), queue: Type.String() }, { title: 'ReplayedDeadLetter' }),
      },
    },
    problems: [404],
  },
  discardDeadLetter: { responses: { 204: { description: 'Discarded' } }, problems: [404] },
  getOutboxStatus: ok(
    'Outbox figures of each database this process holds',
    Type.Object({ services: Type.Record(Type.String(), OutboxStatus) }),
  ),
  replayProjections: {
    ...ok('Number of orders whose read model was rebuilt', Type.Integer({ minimum: 0 })),
    problems: [501],
  },
  listProjections: ok(
    'Every projection: checkpoint, lag (events and seconds), state, and a rebuild in progress',
    Type.Object({ projections: Type.Array(Type.Unknown()) }, { title: 'Projections' }),
  ),
  rebuildProjection: {
    responses: {
      202: {
        description: 'The rebuild started (or the one already running); follow it with GET /admin/projections',
        schema: Type.Object(
          { projection: Type.String(), rebuild: Type.Optional(Type.Unknown()) },
          { title: 'ProjectionRebuild' },
        ),
      },
    },
    problems: [404, 501],
  },
  archiveOrders: {
    ...ok('What was archived in this run', Type.Unknown()),
    problems: [501],
  },
  runAudit: { ...ok('The invariants of SPEC §9, checked now', AuditReport), problems: [501] },
  getConsoleConfig: ok("The console's settings", ConsoleConfig),
  streamConsoleFeed: {
    responses: {
      200: {
        description: 'Server-Sent Events: order changes as they happen',
        schema: Type.String(),
        contentType: 'text/event-stream',
      },
    },
  },
  getOrderTimeline: { ...ok("An order's events with their trace ids", Timeline), problems: [404] },
  listRecentCustomers: ok(
    'Customers with recent orders',
    Type.Object({ customerIds: Type.Array(Type.String()) }, { title: 'RecentCustomers' }),
  ),
  getPartitions: ok('Order partitions and their owners', Partitions),
  proxyRead: {
    responses: {
      200: { description: "The peer's answer, as it gave it", schema: Type.Unknown() },
    },
    problems: [404, 502],
  },
} satisfies Record<string, RouteDoc>;
