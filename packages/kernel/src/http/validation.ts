import { isUuid } from '@commerce/contracts';
import { FormatRegistry, Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import type { FastifySchemaCompiler } from 'fastify';
import type { FieldError } from './problem.js';

const FORMATS: Record<string, (v: string) => boolean> = {
  uuid: isUuid,
  'date-time': (v) =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v) && !Number.isNaN(Date.parse(v)),
  date: (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)),
  email: (v) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v),
  uri: (v) => {
    try {
      new URL(v);
      return true;
    } catch {
      return false;
    }
  },
};
for (const [name, check] of Object.entries(FORMATS)) if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);

/** One validation failure as Fastify carries it (`instancePath` is a JSON pointer). */
interface ValidationIssue {
  instancePath: string;
  message?: string;
}

/**
 * Validates requests with TypeBox's compiler: bodies strictly (no type coercion: `"5"` is not a quantity), path
 * and query strings converted to the declared types first (they arrive as text); defaults applied. Every failure
 * is reported, each with its JSON pointer, so the 400 names every bad field.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart, method, url }) => {
  if (!(Kind in schema))
    throw new Error(`${method} ${url}: the ${httpPart} schema must be a TypeBox schema (Type.Object(...) etc.)`);
  const check = TypeCompiler.Compile(schema);
  return (input: unknown) => {
    let value: unknown;
    try {
      const early = httpPart === 'body' ? [] : looseIntegers(schema, input);
      if (early.length) return { error: early as unknown as Error };
      value = Value.Default(schema, Value.Clone(input));
      if (httpPart !== 'body') value = Value.Convert(schema, value);
      if (check.Check(value)) {
        const nul = nulCharacters(value, '');
        if (nul.length) return { error: nul as unknown as Error };
        return { value };
      }
    } catch (err) {
      // TypeBox walks values recursively: JSON nested thousands of levels deep overflows the stack (a 500 before).
      if (!(err instanceof RangeError)) throw err;
      return { error: [{ instancePath: '', message: 'nested too deeply' }] as unknown as Error };
    }
    const issues: ValidationIssue[] = [];
    for (const e of check.Errors(value)) issues.push({ instancePath: e.path, message: e.message });
    return { error: issues as unknown as Error };
  };
};

/**
 * Query and path integers must be written as integers: TypeBox's conversion reads `1e400` or `5abc` as a number
 * prefix (1, 5) and the request would pass with a value the caller never wrote.
 */
function looseIntegers(schema: TSchema, input: unknown): ValidationIssue[] {
  const props = (schema as { properties?: Record<string, TSchema> }).properties;
  if (!props || typeof input !== 'object' || input === null) return [];
  const issues: ValidationIssue[] = [];
  for (const [key, sub] of Object.entries(props)) {
    const v = (input as Record<string, unknown>)[key];
    if ((sub as { type?: string }).type === 'integer' && typeof v === 'string' && !/^-?\d{1,16}$/.test(v))
      issues.push({ instancePath: `/${key}`, message: 'Expected integer' });
  }
  return issues;
}

/** PostgreSQL text and jsonb cannot hold U+0000: a string carrying it is refused here, not as a 500 at INSERT. */
function nulCharacters(value: unknown, path: string): ValidationIssue[] {
  if (typeof value === 'string')
    return value.includes('\u0000') ? [{ instancePath: path, message: 'must not contain NUL (U+0000)' }] : [];
  if (typeof value !== 'object' || value === null) return [];
  const issues: ValidationIssue[] = [];
  for (const [k, v] of Object.entries(value)) issues.push(...nulCharacters(v, `${path}/${k}`));
  return issues;
}

/** Fastify's validation error → one entry per bad field (the first thing wrong with it). */
export function fieldErrors(validation: readonly ValidationIssue[], context: string | undefined): FieldError[] {
  const seen = new Map<string, FieldError>();
  for (const issue of validation) {
    const field = issue.instancePath || '/';
    if (seen.has(field)) continue;
    const entry: FieldError = { field, message: issue.message ?? 'invalid' };
    if (context && context !== 'body') entry.in = context;
    seen.set(field, entry);
  }
  return [...seen.values()];
}
