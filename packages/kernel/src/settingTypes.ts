/** The building blocks of the settings schema (config.ts): each setting's type, bounds and README metadata. */
import { type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';

/** How a setting appears in the README table, beyond its `description` (the meaning) and `default`. */
export interface SettingDoc {
  /** Settings with the same row share one README row, under the first one's meaning (the three ports). */
  row?: string;
  /** The default as the README shows it, when it is not the schema's `default` (a computed one). */
  shownDefault?: string;
  /** Read by the `commerce` CLI, not by the services. */
  cli?: boolean;
}

export interface Extra {
  doc?: SettingDoc;
  /** Never echoed in an error message. */
  secret?: boolean;
}

export const MS = { s: 1000, min: 60_000, h: 3_600_000, day: 86_400_000 };

export function int(min: number, max: number, def: number, description: string, extra: Extra = {}) {
  return Type.Integer({ minimum: min, maximum: max, default: def, description, ...extra });
}

/** An integer setting without a fixed default (it is computed from another one). */
export function optionalInt(min: number, max: number, description: string, extra: Extra = {}) {
  return Type.Optional(Type.Integer({ minimum: min, maximum: max, description, ...extra }));
}

export function url(protocols: readonly string[], description: string, extra: Extra = {}) {
  return Type.Optional(
    Type.String({ pattern: `^(${protocols.join('|')}):`, protocols, description, secret: true, ...extra }),
  );
}

export function oneOf<const T extends readonly string[]>(values: T, def: T[number], description: string) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { default: def, description },
  ) as TUnion<TLiteral<T[number]>[]>;
}

/** What a setting's schema expects, in words (the second half of its error message). */
export function expectedOf(schema: TSchema): string {
  if (schema.expected) return schema.expected;
  if (schema.type === 'integer') return `an integer from ${schema.minimum} to ${schema.maximum}`;
  if (schema.protocols) {
    const names = (schema.protocols as string[]).join(' or ');
    return `${/^[aeiou]/.test(names) ? 'an' : 'a'} ${names} URL`;
  }
  if (schema.anyOf) {
    const values = (schema.anyOf as TSchema[]).map((s) => String(s.const));
    return values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
  }
  return 'a non-empty value';
}
