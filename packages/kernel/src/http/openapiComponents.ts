/**
 * The parts of every service's OpenAPI 3.1 document that the HTTP bootstrap owns: the problem+json schema (its
 * statuses, titles and types as enums), one named response per problem status, the response headers and the
 * security scheme. Routes point at them by status (see openapi.ts).
 */
import { PROBLEM_TITLES } from './errors.js';
import { HttpProblem } from './problem.js';

/** Response headers a route can name in `config.openapi.headers` (Idempotent-Replayed is added by itself). */
export const RESPONSE_HEADERS = {
  Location: {
    description: 'The URL of the resource the request created',
    schema: { type: 'string', pattern: '^/', examples: ['/orders/0b8a4a4e-8a3e-4b8f-9a57-2f1f6f0b6c1d'] },
    required: true,
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'string', pattern: '^[0-9]+$', examples: ['12'] },
    required: true,
  },
  'Idempotent-Replayed': {
    description: 'Present when the answer is the one of an earlier request with the same Idempotency-Key',
    schema: { type: 'string', enum: ['true'] },
    required: false,
  },
  'WWW-Authenticate': {
    description: 'The bearer challenge (RFC 6750): why the token was refused',
    schema: { type: 'string', pattern: '^Bearer', examples: ['Bearer realm="order", error="invalid_token"'] },
    required: true,
  },
} as const;
export type ResponseHeaderName = keyof typeof RESPONSE_HEADERS;

/** Problem statuses the documents know, with the component name of each and the headers it carries. */
export const PROBLEM_RESPONSES: Record<
  number,
  { name: string; description: string; headers?: Record<string, object> }
> = {
  400: { name: 'BadRequest', description: 'Invalid request: `errors` names each bad field' },
  401: {
    name: 'Unauthorized',
    description: 'Missing or invalid bearer token',
    headers: { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } },
  },
  403: {
    name: 'Forbidden',
    description: 'The token is valid but may not do this (needs role admin, or acts for another customer)',
    headers: {
      'WWW-Authenticate': {
        description: 'Set when the route needs role admin (error="insufficient_scope")',
        schema: { type: 'string', pattern: '^Bearer' },
      },
    },
  },
  404: { name: 'NotFound', description: 'No such resource, or one the caller may not see' },
  409: { name: 'Conflict', description: 'The resource is not in a state that allows this' },
  413: { name: 'ContentTooLarge', description: 'The request body is larger than 1 MiB' },
  415: { name: 'UnsupportedMediaType', description: 'Only application/json request bodies are accepted' },
  422: {
    name: 'UnprocessableContent',
    description: 'The Idempotency-Key was already used with another request',
  },
  429: {
    name: 'TooManyRequests',
    description: 'Rate limit (RATE_LIMIT) exceeded',
    headers: { 'Retry-After': { $ref: '#/components/headers/Retry-After' } },
  },
  500: { name: 'InternalServerError', description: 'An unexpected error; it has been logged' },
  501: { name: 'NotImplemented', description: 'This process does not hold what the route needs' },
  502: { name: 'BadGateway', description: 'The service the request was forwarded to did not answer' },
  503: { name: 'ServiceUnavailable', description: 'Shutting down, not ready, or token verification unavailable' },
};

const typeOf = (title: string) => new HttpProblem(500, title, '').type;

/** The problem+json body (RFC 9457) as a JSON Schema 2020-12 component. */
export const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'application/problem+json (RFC 9457)',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', enum: [...new Set(Object.values(PROBLEM_TITLES).map(typeOf))] },
    title: { type: 'string', enum: [...new Set(Object.values(PROBLEM_TITLES))] },
    status: { type: 'integer', enum: Object.keys(PROBLEM_TITLES).map(Number) },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: {
      type: 'array',
      description: 'one entry per bad field (400) or reused header (422)',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: {
          field: { type: 'string', description: 'JSON pointer or name of the field' },
          message: { type: 'string' },
          in: { type: 'string', enum: ['querystring', 'params', 'headers'] },
        },
      },
    },
    checks: {
      type: 'object',
      description: 'readiness problem (503): each dependency, up or down',
      additionalProperties: { type: 'string', enum: ['up', 'down'] },
    },
  },
  additionalProperties: true,
} as const;

const EXAMPLE_DETAIL: Record<number, string> = {
  400: 'invalid body: /items/0/quantity expected integer',
  401: 'a bearer token is required (Authorization: Bearer <token>)',
  403: 'this route needs role admin',
  404: 'order 0b8a4a4e-8a3e-4b8f-9a57-2f1f6f0b6c1d not found',
  409: 'order 0b8a4a4e-8a3e-4b8f-9a57-2f1f6f0b6c1d is COMPLETED: it cannot be cancelled',
  413: 'request body is larger than the limit of 1 MiB',
  415: 'only application/json request bodies are accepted',
  422: 'Idempotency-Key was already used with a different request body',
  429: 'rate limit of 100 requests per 1 minute exceeded; retry in 12 s',
  500: 'an unexpected error occurred; it has been logged',
  501: 'this process does not hold the order database',
  502: 'the inventory service did not answer',
  503: 'not ready: database (no answer within 2000 ms) down',
};

function problemExample(status: number): Record<string, unknown> {
  const title = PROBLEM_TITLES[status] ?? 'Bad Request';
  const example: Record<string, unknown> = {
    type: typeOf(title),
    title,
    status,
    detail: EXAMPLE_DETAIL[status] ?? title,
  };
  if (status === 400) example.errors = [{ field: '/items/0/quantity', message: 'Expected integer' }];
  if (status === 422)
    example.errors = [{ field: 'idempotency-key', message: 'already used with another request body', in: 'headers' }];
  return example;
}

/** components.responses / headers / schemas / securitySchemes shared by every document. */
export function sharedComponents() {
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(PROBLEM_RESPONSES)) {
    responses[r.name] = {
      description: r.description,
      ...(r.headers ? { headers: r.headers } : {}),
      content: {
        'application/problem+json': {
          schema: { $ref: '#/components/schemas/Problem' },
          example: problemExample(Number(status)),
        },
      },
    };
  }
  const headers: Record<string, unknown> = {};
  for (const [name, h] of Object.entries(RESPONSE_HEADERS)) headers[name] = h;
  return {
    schemas: { Problem: PROBLEM_SCHEMA },
    responses,
    headers,
    securitySchemes: {
      bearerAuth: {
        type: 'http' as const,
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'HS256 or RS256 JWT with `sub` (the customer id) and `role` (customer | admin); `npm start` prints tokens',
      },
    },
  };
}
