import { CONSUMER_QUEUES } from '@commerce/contracts';
import type { Database, Logger, MessageBus, ServiceName, Settings } from '@commerce/kernel';
import { HttpProblem, outboxStatus } from '@commerce/kernel';
import { archiveFinalOrders, rebuildOrderProjections } from '@commerce/order';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { runAudit } from './audit.js';
import { OPERATOR_DOCS } from './operatorSchemas.js';
import { listProjections, PROJECTION_NAMES, ProjectionRebuilds, projectionNamed } from './projectionRebuilds.js';

/** A string, read as a number of milliseconds (anything else means the default, as it always has). */
const AuditQuery = Type.Object({
  maxAgeMs: Type.Optional(
    Type.String({ description: 'how old (ms) an unfinished order may be before it counts as stuck' }),
  ),
});
const QueueParam = Type.Object({ queue: Type.String({ pattern: '^[A-Za-z0-9._-]{1,200}$' }) });
const LetterParams = Type.Object({
  queue: Type.String({ pattern: '^[A-Za-z0-9._-]{1,200}$' }),
  id: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9._:-]+$' }),
});

export interface AdminDeps {
  bus: MessageBus;
  /** The databases this process holds, by service. */
  dbs: Partial<Record<ServiceName, Database>>;
  /** SAGA_TIMEOUT_MS: how old an unfinished order may be before the audit calls it stuck. */
  settings: Pick<Settings, 'sagaTimeoutMs'> & Partial<Pick<Settings, 'reviewTimeoutMs'>>;
  log: Logger;
}

/**
 * Platform-wide operator routes, served by the order service: dead letters of every queue the bus can see, outbox
 * status, projection rebuild and — when this process holds all three databases (embedded default, `npm start`) —
 * the invariant audit. The CLI and the console use them; all are admin-only.
 */
export async function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const tags = ['operations'];
  /** An admin route's options: its operationId, summary and documented answers (operatorSchemas.ts). */
  const admin = (operationId: keyof typeof OPERATOR_DOCS, summary: string) => ({
    config: { auth: 'admin' as const, openapi: OPERATOR_DOCS[operationId] },
    schema: { tags, operationId, summary },
  });
  app.get('/admin/dead-letters', admin('listDeadLetterQueues', 'Dead-letter queues and their depth'), async () => ({
    queues: await deps.bus.deadLetters.queues(),
    // Every consumer queue of the platform (the contracts' names), for a caller that looks at each by name.
    consumerQueues: Object.values(CONSUMER_QUEUES),
  }));
  const listLetters = admin('listDeadLetters', "A queue's dead letters");
  app.get(
    '/admin/dead-letters/:queue',
    { ...listLetters, schema: { ...listLetters.schema, params: QueueParam } },
    async (req) => {
      const { queue } = req.params as { queue: string };
      return { items: await deps.bus.deadLetters.list(queue, 100) };
    },
  );
  const showLetter = admin('getDeadLetter', 'One dead letter');
  app.get(
    '/admin/dead-letters/:queue/:id',
    { ...showLetter, schema: { ...showLetter.schema, params: LetterParams } },
    async (req) => {
      const { queue, id } = req.params as { queue: string; id: string };
      const letter = await deps.bus.deadLetters.show(queue, id);
      if (!letter) throw HttpProblem.notFound(`no dead letter ${id} in ${queue}.dlq`);
      return letter;
    },
  );
  const replay = admin('replayDeadLetter', 'Send a dead letter back to its queue');
  app.post(
    '/admin/dead-letters/:queue/:id/replay',
    { ...replay, schema: { ...replay.schema, params: LetterParams } },
    async (req, reply) => {
      const { queue, id } = req.params as { queue: string; id: string };
      if (!(await deps.bus.deadLetters.replay(queue, id)))
        throw HttpProblem.notFound(`no dead letter ${id} in ${queue}.dlq`);
      return reply.code(202).send({ replayed: id, queue });
    },
  );
  const discard = admin('discardDeadLetter', 'Discard a dead letter');
  app.delete(
    '/admin/dead-letters/:queue/:id',
    { ...discard, schema: { ...discard.schema, params: LetterParams } },
    async (req, reply) => {
      const { queue, id } = req.params as { queue: string; id: string };
      if (!(await deps.bus.deadLetters.discard(queue, id)))
        throw HttpProblem.notFound(`no dead letter ${id} in ${queue}.dlq`);
      return reply.code(204).send();
    },
  );
  app.get('/admin/outbox', admin('getOutboxStatus', 'Outbox status of each database'), async () => {
    const services: Record<string, unknown> = {};
    for (const [name, db] of Object.entries(deps.dbs)) services[name] = await outboxStatus(db);
    return { services };
  });
  app.post(
    '/admin/projections/replay',
    admin('replayProjections', "Rebuild the orders' read model from events"),
    async () => {
      const order = deps.dbs.order;
      if (!order) throw new HttpProblem(501, 'Not Implemented', 'this process does not hold the order database');
      return await rebuildOrderProjections(order);
    },
  );
  const rebuilds = deps.dbs.order ? new ProjectionRebuilds(deps.dbs.order, deps.log) : undefined;
  const orderDb = () => {
    if (!deps.dbs.order) throw new HttpProblem(501, 'Not Implemented', 'this process does not hold the order database');
    return deps.dbs.order;
  };
  app.get(
    '/admin/projections',
    admin('listProjections', 'Every projection with its checkpoint, lag and state'),
    async () => ({ projections: await listProjections(orderDb(), rebuilds?.all) }),
  );
  const rebuild = admin('rebuildProjection', 'Rebuild a projection into shadow tables, then swap');
  app.post(
    '/admin/projections/:name/rebuild',
    {
      ...rebuild,
      schema: { ...rebuild.schema, params: Type.Object({ name: Type.String({ pattern: '^[a-z][a-z0-9_]{0,40}$' }) }) },
    },
    async (req, reply) => {
      const { name } = req.params as { name: string };
      const projection = projectionNamed(name);
      if (!projection)
        throw HttpProblem.notFound(`no projection ${name}: expected one of ${PROJECTION_NAMES.join(', ')}`);
      orderDb();
      return reply.code(202).send({ projection: name, rebuild: rebuilds?.start(projection) });
    },
  );
  const archive = admin('archiveOrders', 'Move the event streams of orders final for long enough to the archive');
  app.post(
    '/admin/archive',
    {
      ...archive,
      schema: {
        ...archive.schema,
        body: Type.Object(
          { olderThanMs: Type.Integer({ minimum: 0, description: 'orders final for longer than this' }) },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => archiveFinalOrders(orderDb(), { olderThanMs: (req.body as { olderThanMs: number }).olderThanMs }),
  );
  const audit = admin('runAudit', 'Check the invariants of SPEC §9');
  app.get('/admin/audit', { ...audit, schema: { ...audit.schema, querystring: AuditQuery } }, async (req) => {
    const { order, inventory, payment } = deps.dbs;
    if (!order || !inventory || !payment)
      throw new HttpProblem(
        501,
        'Not Implemented',
        'the audit route needs all three databases in one process; run `commerce audit` with the database URLs instead',
      );
    const maxAgeMs = Number((req.query as { maxAgeMs?: string }).maxAgeMs ?? '') || undefined;
    return await runAudit(
      { order, inventory, payment },
      {
        now: new Date(),
        maxAgeMs,
        sagaTimeoutMs: deps.settings.sagaTimeoutMs,
        reviewTimeoutMs: deps.settings.reviewTimeoutMs,
      },
    );
  });
}
