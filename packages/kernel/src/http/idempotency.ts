import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Committed } from '../effect.js';
import { type IdempotencyKeyClaim, requestHashOf } from '../idempotencyKeys.js';
import { HttpProblem } from './problem.js';

/** The optional `Idempotency-Key` request header of the routes that apply a retried call once. */
export const IdempotencyKeyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description:
        'a retry with the same key and body is applied once and answered the same (Idempotent-Replayed: true); ' +
        'another body with the key answers 422; keys are kept for IDEMPOTENCY_KEY_RETENTION_MS',
    }),
  ),
});

/** Answer header of a request answered from its key's first request. */
export const IDEMPOTENT_REPLAYED = 'idempotent-replayed';

/**
 * The claim of a request's Idempotency-Key (undefined without one): scoped to the caller (the token's `sub`), for
 * `what` the request asks (its route and parameters: the same key with anything else answers 422).
 */
export function idempotencyClaimOf(request: FastifyRequest, what: unknown): IdempotencyKeyClaim | undefined {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string') return undefined;
  if (!request.principal) throw HttpProblem.unauthorized('a bearer token is required');
  return { scope: request.principal.sub, key, requestHash: requestHashOf(what) };
}

/** The problem answered when a key comes back with another request. */
export function idempotencyKeyReused(detail = 'Idempotency-Key was already used with a different request body') {
  return HttpProblem.unprocessable(detail, [
    { field: 'idempotency-key', message: 'already used with another request body', in: 'headers' },
  ]);
}

/**
 * The answer to a committed request that may carry an Idempotency-Key: the change's result when applied now; the
 * first request's answer (from `replayed`) with `Idempotent-Replayed: true` for a retry; 422 for a key reused with
 * another request.
 */
export async function answerCommitted<R, T>(
  reply: FastifyReply,
  committed: Committed<R>,
  answer: { applied(result: R): T | Promise<T>; replayed(stored: unknown): T | Promise<T> },
): Promise<T> {
  switch (committed.kind) {
    case 'applied':
      return answer.applied(committed.result);
    case 'replayed':
      reply.header(IDEMPOTENT_REPLAYED, 'true');
      return answer.replayed(committed.answer);
    case 'key-reused':
      throw idempotencyKeyReused();
    case 'duplicate':
      throw new Error('a request has no inbox record: it cannot be a duplicate delivery');
  }
}
