/**
 * "The documents tell the truth" (issue 23): every answer a service gives during a test run is validated against the
 * service's published OpenAPI document — its status must be documented for the route, its body must match that
 * status's schema and media type, its documented headers must be there (when required) and match. Validation is
 * done with Ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1) on the documents themselves.
 *
 * Installed once per process, never per test: the vitest global setup writes the three documents to
 * OPENAPI_CHECK_DIR and sets it; every server made by the kernel's createHttpServer then gets an onSend hook
 * (kernel onHttpServerCreated): in the test workers through vitest's setupFiles, in the platform processes the
 * e2e suites start through `--import test/support/responseCheckPreload.ts`. Each process appends one line per
 * exchange to <dir>/<pid>.jsonl; the global teardown counts them and fails the run on any violation.
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { documentPathOfRoute } from '@commerce/kernel';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

export const CHECK_DIR_ENV = 'OPENAPI_CHECK_DIR';
export const DOCUMENTS_FILE = 'documents.json';

type Json = Record<string, unknown>;
type Documents = Record<string, Json>;

export interface Exchange {
  service: string;
  method: string;
  path: string;
  status: number;
  /** What is wrong; empty when the answer is what the document says. */
  problems: string[];
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

/** Ajv validators of one service's document, compiled on first use. */
class DocumentValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly doc: Json) {
    addFormats(this.ajv);
    // Schemas refer to `#/components/...` of the document: add it whole under an id and point the references at it.
    this.ajv.addSchema(rewriteRefs(doc) as Json, 'doc');
  }

  private resolve<T = Json>(node: unknown): T {
    let n = node as Json;
    while (typeof n?.$ref === 'string') {
      const parts = (n.$ref as string).replace(/^#\//, '').split('/');
      n = parts.reduce<Json>((o, p) => o[p.replace(/~1/g, '/').replace(/~0/g, '~')] as Json, this.doc);
    }
    return n as T;
  }

  check(method: string, path: string, status: number, headers: Record<string, unknown>, body: string | undefined) {
    const problems: string[] = [];
    const paths = this.doc.paths as Record<string, Record<string, Json>>;
    const op = paths[path]?.[method.toLowerCase()];
    if (!op) return undefined;
    const responses = op.responses as Record<string, unknown>;
    const documented = responses[String(status)];
    if (!documented) return [`status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`];
    const response = this.resolve(documented);
    for (const [name, h] of Object.entries((response.headers ?? {}) as Record<string, unknown>)) {
      const header = this.resolve<{ required?: boolean; schema?: Json }>(h);
      const value = headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`header ${name} is documented as required but missing`);
        continue;
      }
      if (header.schema && !this.validator(`h:${name}`, header.schema)(String(value)))
        problems.push(`header ${name}: ${JSON.stringify(value)} does not match its schema`);
    }
    const content = response.content as Record<string, { schema?: Json }> | undefined;
    const mediaType = String(headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim();
    if (!content) {
      if (body) problems.push(`a body was sent but the document says status ${status} has none`);
      return problems;
    }
    const media = mediaType ? content[mediaType] : undefined;
    if (!media) {
      problems.push(`content-type ${mediaType || '(none)'} is not documented (${Object.keys(content).join(', ')})`);
      return problems;
    }
    if (!media.schema || !/json/.test(mediaType ?? '')) return problems;
    let value: unknown;
    try {
      value = JSON.parse(body ?? '');
    } catch {
      problems.push('the body is not JSON');
      return problems;
    }
    const validate = this.validator(`${method} ${path} ${status} ${mediaType}`, media.schema);
    if (!validate(value))
      for (const e of validate.errors ?? []) problems.push(`body${e.instancePath} ${e.message} (${e.schemaPath})`);
    return problems;
  }

  private validator(key: string, schema: Json): ValidateFunction {
    let v = this.cache.get(key);
    if (!v) {
      v = this.ajv.compile(rewriteRefs(schema) as Json);
      this.cache.set(key, v);
    }
    return v;
  }
}

function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (typeof node !== 'object' || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json))
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `doc${v}` : rewriteRefs(v);
  return out;
}

/** Adds the onSend hook that validates each answer of `app` against `service`'s document. */
export function installResponseCheck(app: FastifyInstance, service: string, dir: string): void {
  const docs = JSON.parse(readFileSync(join(dir, DOCUMENTS_FILE), 'utf8')) as Documents;
  const doc = docs[service];
  if (!doc) return;
  const validator = new DocumentValidator(doc);
  const file = join(dir, `${process.pid}.jsonl`);
  app.addHook('onSend', async (request, reply, payload) => {
    const route = request.routeOptions.url;
    if (request.method === 'HEAD' || route === undefined) return payload;
    const path = documentPathOfRoute(route);
    const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : '';
    if (payload !== null && payload !== undefined && typeof payload === 'object' && !Buffer.isBuffer(payload))
      return payload; // a stream (static files): not a documented route
    const problems = validator.check(request.method, path, reply.statusCode, reply.getHeaders(), body);
    if (problems === undefined) return payload; // a route the document does not list (metrics, docs, console files)
    const exchange: Exchange = { service, method: request.method, path, status: reply.statusCode, problems };
    appendFileSync(file, `${JSON.stringify(exchange)}\n`);
    return payload;
  });
}

/** Every exchange the processes of this run wrote. */
export function readExchanges(dir: string): Exchange[] {
  const out: Exchange[] = [];
  for (const f of readdirSync(dir))
    if (f.endsWith('.jsonl'))
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n'))
        if (line.trim()) out.push(JSON.parse(line) as Exchange);
  return out;
}
