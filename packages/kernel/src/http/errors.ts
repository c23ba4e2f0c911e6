import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.js';
import { fieldErrors } from './validation.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 problem body, for route response schemas and the OpenAPI document. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String(), in: Type.Optional(Type.String()) })),
    ),
  },
  { additionalProperties: true, description: 'application/problem+json (RFC 9457)' },
);

/** The title of each status a problem can have (the OpenAPI documents list them as an enum). */
export const PROBLEM_TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function titleOf(status: number): string {
  return PROBLEM_TITLES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Bad Request');
}

/** Fastify's own client errors carry messages written for the caller (no internals): these codes are passed on. */
const CLIENT_ERROR_DETAIL: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body is larger than the limit of 1 MiB',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'only application/json request bodies are accepted',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the body is empty but Content-Type is application/json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON',
  FST_ERR_CTP_INVALID_TYPE: 'Content-Type header is malformed',
  FST_ERR_BAD_URL: 'the URL is malformed',
  FST_ERR_MAX_PARAM_LENGTH: 'a path parameter is longer than 200 characters',
  FST_ERR_ASYNC_CONSTRAINT: 'the request does not match a route constraint',
};

/** The problem to answer for any error thrown while handling a request. */
export function problemFor(err: unknown): HttpProblem {
  if (err instanceof HttpProblem) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown; validationContext?: string };
  if (Array.isArray(e.validation)) {
    const errors = fieldErrors(e.validation, e.validationContext);
    const where = e.validationContext ?? 'request';
    return HttpProblem.badRequest(
      `invalid ${where}: ${errors.map((f) => `${f.field} ${f.message.replace(/^Expected/, 'expected')}`).join('; ')}`,
      errors,
    );
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  const known = e.code ? CLIENT_ERROR_DETAIL[e.code] : undefined;
  if (known) return new HttpProblem(status, titleOf(status), known);
  // Malformed JSON: Fastify's parser raises a SyntaxError marked 400.
  if (status === 400 && e instanceof SyntaxError)
    return new HttpProblem(400, 'Bad Request', 'the body is not valid JSON');
  if (status >= 400 && status < 500 && typeof e.code === 'string' && e.code.startsWith('FST_'))
    return new HttpProblem(status, titleOf(status), e.message ?? titleOf(status));
  return new HttpProblem(500, 'Internal Server Error', 'an unexpected error occurred; it has been logged');
}

export function sendProblem(reply: FastifyReply, problem: HttpProblem, instance?: string): FastifyReply {
  for (const [name, value] of Object.entries(problem.headers ?? {})) reply.header(name, value);
  const body: Record<string, unknown> = {
    type: problem.type,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    ...problem.extensions,
  };
  if (instance) body.instance = instance;
  if (problem.errors && problem.errors.length > 0) body.errors = problem.errors;
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** Every error answers application/problem+json (RFC 9457), never a stack or SQL. Install before plugins. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const problem = problemFor(err);
    if (problem.status >= 500 && !(err instanceof HttpProblem)) {
      request.log.error({ err, reqId: request.id }, 'request failed');
    } else if (problem.status >= 500) {
      request.log.warn({ status: problem.status, detail: problem.detail }, 'request answered with a server problem');
    }
    return sendProblem(reply, problem);
  });
}

/** Unknown routes answer a 404 problem; they count against the rate limit when one is installed (scanners). */
export function installNotFoundHandler(app: FastifyInstance): void {
  app.setNotFoundHandler(
    { preHandler: app.hasDecorator('rateLimit') ? app.rateLimit() : undefined },
    (request: FastifyRequest, reply: FastifyReply) =>
      sendProblem(
        reply,
        HttpProblem.notFound(`no route ${request.method} ${request.url.split('?')[0]?.slice(0, 200)}`),
      ),
  );
}
