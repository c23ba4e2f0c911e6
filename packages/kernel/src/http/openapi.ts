/**
 * OpenAPI 3.1 documents made from the routes (issue 23): @fastify/swagger collects each route's schemas, `transform`
 * adds what the route says only for the document (`config.openapi`) and what the bootstrap answers for it, and
 * `finishDocument` turns the result into the published document: every status with its body and headers, named
 * component schemas (every schema with a `title`), nullable unions as `type: [T, 'null']`.
 */
import type { TSchema } from '@sinclair/typebox';
import { PROBLEM_RESPONSES, RESPONSE_HEADERS, type ResponseHeaderName, sharedComponents } from './openapiComponents.js';

/** What a route adds to its document beyond its runtime schemas (which the serializer uses; these it never sees). */
export interface RouteDoc {
  /** Success answers the route has no runtime response schema for (e.g. admin routes, 204, event streams). */
  responses?: Record<number, { description: string; schema?: TSchema | object; contentType?: string }>;
  /** Problems the handler itself answers (404, 409, 501…); the bootstrap's own are added by themselves. */
  problems?: number[];
  /** Headers of a success answer. Idempotent-Replayed is added to routes that take an Idempotency-Key. */
  headers?: Record<number, ResponseHeaderName[]>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    openapi?: RouteDoc;
  }
}

const X_ANSWERS = 'x-commerce-answers';
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

interface RouteLike {
  method: string | string[];
  url: string;
  config?: unknown;
}

/**
 * The per-route part (the swagger plugin's `transform`): security, the problem statuses the route can answer
 * (its own, plus 400/401/403/413/415/422/429/500/503 where the bootstrap answers them), doc-only success answers.
 */
export function transformRoute(
  schema: Record<string, unknown> | undefined,
  route: RouteLike,
): Record<string, unknown> | undefined {
  const s = { ...(schema ?? {}) } as Record<string, unknown>;
  if (s.hide) return s;
  const config = (route.config ?? {}) as { auth?: string; rateLimit?: unknown; openapi?: RouteDoc };
  const where = `${[route.method].flat().join(',')} ${route.url}`;
  // The services' routes name both (apps/platform apiDocs.ts refuses a route without them); any other server made by
  // the bootstrap (tests) gets names made from the method and path.
  if (typeof s.operationId !== 'string') s.operationId = derivedOperationId(route);
  if (typeof s.summary !== 'string') s.summary = where;
  const doc = config.openapi ?? {};
  const problems = new Set<number>([500, 503, ...(doc.problems ?? [])]);
  const runtime = (s.response ?? {}) as Record<string, unknown>;
  const response: Record<string, unknown> = {};
  for (const [status, body] of Object.entries(runtime)) {
    if (Number(status) >= 400) problems.add(Number(status));
    else response[status] = body;
  }
  for (const [status, r] of Object.entries(doc.responses ?? {})) {
    response[status] = r.schema
      ? r.contentType
        ? { description: r.description, content: { [r.contentType]: { schema: r.schema } } }
        : { ...r.schema, description: r.description }
      : { type: 'null', description: r.description };
  }
  if (Object.keys(response).length === 0) response[200] = { description: 'OK (not described)' };
  s.response = response;
  const methods = [route.method].flat();
  const headers = (s.headers ?? {}) as { properties?: Record<string, unknown> };
  const idempotent = headers.properties?.['idempotency-key'] !== undefined;
  if (s.body || s.querystring || s.params || s.headers) problems.add(400);
  if (methods.some((m) => BODY_METHODS.has(m))) for (const p of [400, 413, 415]) problems.add(p);
  if (config.auth === 'public') s.security = [];
  else problems.add(401);
  if (config.auth === 'admin') {
    problems.add(403);
    s.description = [s.description, 'Requires role admin.'].filter(Boolean).join(' ');
  }
  if (idempotent) problems.add(422);
  if (config.rateLimit !== false) problems.add(429);
  const successHeaders: Record<string, string[]> = {};
  for (const status of Object.keys(response)) {
    const names = [...(doc.headers?.[Number(status)] ?? [])];
    if (idempotent) names.push('Idempotent-Replayed');
    if (names.length > 0) successHeaders[status] = names;
  }
  s[X_ANSWERS] = { problems: [...problems].sort(), headers: successHeaders };
  return s;
}

/** `GET /things/:id/parts` → `getThingsIdParts`. */
function derivedOperationId(route: RouteLike): string {
  const words = [[route.method].flat()[0] ?? 'any', ...route.url.split(/[^A-Za-z0-9]+/)].filter(Boolean);
  return words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0]?.toUpperCase() + w.slice(1))).join('');
}

type Json = Record<string, unknown>;

/**
 * The whole-document part (the swagger plugin's `transformObject`): OpenAPI 3.1.0, problem answers as references to
 * the shared responses, headers, named schemas hoisted into components.schemas, nullable unions simplified.
 */
export function finishDocument(doc: Json): Json {
  const shared = sharedComponents();
  const components = (doc.components ?? {}) as Json;
  const schemas: Json = { ...((components.schemas as Json) ?? {}), ...shared.schemas };
  const out: Json = {
    ...doc,
    openapi: '3.1.0',
    components: { ...components, ...shared, schemas },
  };
  const paths: Record<string, Record<string, Json>> = {};
  // A wildcard route (`/x/*`) has the parameter `*`: the document names it `path`.
  for (const [path, operations] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, Json>>))
    paths[documentPathOf(path)] = operations;
  out.paths = paths;
  for (const operations of Object.values(paths))
    for (const op of Object.values(operations)) {
      for (const param of (op.parameters ?? []) as Json[]) {
        if (param.name === '*') param.name = 'path';
        // A query parameter with a default may be left out, whatever the route's schema says.
        if (param.in === 'query' && (param.schema as Json | undefined)?.default !== undefined) param.required = false;
      }
      const answers = op[X_ANSWERS] as { problems: number[]; headers: Record<string, string[]> } | undefined;
      if (!answers) continue;
      delete op[X_ANSWERS];
      const responses = (op.responses ?? {}) as Record<string, Json>;
      for (const [status, r] of Object.entries(responses))
        if (r.description === 'Default Response') r.description = SUCCESS_TEXT[status] ?? 'Success';
      for (const status of answers.problems) {
        const known = PROBLEM_RESPONSES[status];
        if (!known) throw new Error(`${String(op.operationId)}: no shared response for status ${status}`);
        responses[String(status)] = { $ref: `#/components/responses/${known.name}` };
      }
      for (const [status, names] of Object.entries(answers.headers)) {
        const r = responses[status];
        if (!r) continue;
        r.headers = {
          ...((r.headers as Json) ?? {}),
          ...Object.fromEntries(names.map((n) => [n, { $ref: `#/components/headers/${n}` }])),
        };
      }
      op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
    }
  // Named schemas: each schema with a title becomes components.schemas[title], referenced wherever it appears.
  const named = new Map<string, { schema: Json; key: string }>();
  const hoist = (node: unknown, inSchema: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => hoist(n, inSchema));
    if (typeof node !== 'object' || node === null) return node;
    const obj: Json = {};
    for (const [k, v] of Object.entries(node as Json)) obj[k] = hoist(v, inSchema || k === 'schema' || k === 'schemas');
    const simplified = inSchema ? simplifySchema(obj) : obj;
    const title = simplified.title;
    if (!inSchema || typeof title !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(title)) return simplified;
    const key = JSON.stringify(withoutAnnotations(simplified));
    const seen = named.get(title);
    if (seen && seen.key !== key) throw new Error(`two different schemas are named ${title}`);
    if (!seen || (simplified.examples && !seen.schema.examples)) named.set(title, { schema: simplified, key });
    return { $ref: `#/components/schemas/${title}` };
  };
  out.paths = hoist(out.paths, false);
  const outComponents = out.components as Json;
  const existing = hoist(outComponents.schemas, false) as Json;
  for (const [name, { schema }] of named) existing[name] = schema;
  outComponents.schemas = Object.fromEntries(Object.entries(existing).sort(([a], [b]) => a.localeCompare(b)));
  outComponents.headers = Object.fromEntries(
    Object.entries(RESPONSE_HEADERS).map(([n, h]) => [
      n,
      { description: h.description, required: h.required, schema: h.schema },
    ]),
  );
  // Only the shared responses and headers this document uses.
  const text = JSON.stringify(out.paths);
  const used = (kind: string, name: string) => text.includes(`"#/components/${kind}/${name}"`);
  const responsesText = JSON.stringify(outComponents.responses);
  for (const kind of ['responses', 'headers'] as const) {
    const entries = Object.entries(outComponents[kind] as Json);
    outComponents[kind] = Object.fromEntries(
      entries.filter(([n]) => used(kind, n) || (kind === 'headers' && responsesText.includes(`/headers/${n}"`))),
    );
  }
  return out;
}

const SUCCESS_TEXT: Record<string, string> = { '200': 'OK', '201': 'Created', '202': 'Accepted', '204': 'No Content' };

/** The document's path of a route URL as the swagger plugin writes it (`/x/{*}` → `/x/{path}`). */
export function documentPathOf(path: string): string {
  return path.replace('{*}', '{path}');
}

/** The document's path of a route as Fastify names it (`/orders/:orderId` → `/orders/{orderId}`, `*` → `{path}`). */
export function documentPathOfRoute(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/\*$/, '{path}');
}

function withoutAnnotations(schema: Json): Json {
  const { examples: _e, example: _x, description: _d, ...rest } = schema;
  return rest;
}

/**
 * `anyOf: [{type: T}, {type: 'null'}]` → `type: [T, 'null']`; `anyOf` of constants of one type → `enum`
 * (TypeBox writes nullable and literal unions as anyOf; generators and readers prefer these forms).
 */
function simplifySchema(schema: Json): Json {
  const anyOf = schema.anyOf as Json[] | undefined;
  if (!Array.isArray(anyOf) || anyOf.length < 2) return schema;
  const { anyOf: _, ...rest } = schema;
  // A literal is `{type, const}`, or `{type, enum: [v]}` once the swagger plugin has rewritten `const`.
  const literal = (m: Json) =>
    typeof m.type === 'string' &&
    m.type === anyOf[0]?.type &&
    (m.const !== undefined || (Array.isArray(m.enum) && m.enum.length === 1));
  if (anyOf.every(literal))
    return { ...rest, type: anyOf[0]?.type, enum: anyOf.map((m) => m.const ?? (m.enum as unknown[])[0]) };
  const plain = (m: Json) => typeof m.type === 'string' && Object.keys(m).every((k) => k === 'type');
  if (anyOf.every(plain)) return { ...rest, type: anyOf.map((m) => m.type) };
  const nullable = anyOf.filter((m) => m.type === 'null' && Object.keys(m).length === 1);
  const others = anyOf.filter((m) => !nullable.includes(m));
  if (nullable.length === 1 && others.length === 1 && typeof others[0]?.type === 'string' && !others[0].title)
    return {
      ...rest,
      ...others[0],
      type: [others[0].type, 'null'],
      ...(Array.isArray(others[0].enum) ? { enum: [...others[0].enum, null] } : {}),
    };
  return schema;
}
