import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type Envelope, EnvelopeSchema } from './envelope.js';
import { EVENTS, type EventType, SCHEMA_VERSION } from './events.js';

/** Thrown for a message that must go straight to the dead-letter queue: retrying cannot fix it. */
export class InvalidMessageError extends Error {
  override readonly name = 'InvalidMessageError';
}

const envelopeCheck = TypeCompiler.Compile(EnvelopeSchema);
const dataChecks = new Map(
  Object.entries(EVENTS).map(([type, spec]) => [type, TypeCompiler.Compile(spec.data)] as const),
);

function describe(check: { Errors(v: unknown): Iterable<{ path: string; message: string }> }, value: unknown) {
  return [...check.Errors(value)]
    .slice(0, 5)
    .map((e) => `${e.path || '/'}: ${e.message}`)
    .join('; ');
}

/** Parses raw bytes into a schema-valid envelope, or throws InvalidMessageError naming what is wrong. */
export function parseEnvelope(raw: Buffer | string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch (err) {
    throw new InvalidMessageError(`body is not valid JSON: ${(err as Error).message}`);
  }
  return validateEnvelope(value);
}

export function validateEnvelope(value: unknown): Envelope {
  if (!envelopeCheck.Check(value)) throw new InvalidMessageError(`envelope invalid: ${describe(envelopeCheck, value)}`);
  const check = dataChecks.get(value.eventType);
  if (!check) throw new InvalidMessageError(`unknown eventType ${JSON.stringify(value.eventType)}`);
  // A newer producer's message: this consumer cannot know its shape, and retrying will not teach it (dead letter).
  if (value.schemaVersion > SCHEMA_VERSION)
    throw new InvalidMessageError(
      `schemaVersion ${value.schemaVersion} of ${value.eventType} is newer than this consumer knows (${SCHEMA_VERSION})`,
    );
  if (!check.Check(value.data))
    throw new InvalidMessageError(`data of ${value.eventType} invalid: ${describe(check, value.data)}`);
  return value as Envelope;
}

export function isEventType(t: string): t is EventType {
  return dataChecks.has(t);
}
