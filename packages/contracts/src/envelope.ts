import { FormatRegistry, type Static, Type } from '@sinclair/typebox';

/** A UUID (any version), as eventId and orderId are: the one pattern every check uses. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID_PATTERN.test(v);
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', isUuid);
if (!FormatRegistry.Has('date-time'))
  FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d\d-\d\dT/.test(v));

export const Uuid = Type.String({ format: 'uuid', maxLength: 36 });
/** customerId / productId: 1–64 characters of [A-Za-z0-9._-] (SPEC §4). */
export const EntityId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._-]+$' });
/** ISO 4217 alphabetic code; the accepted set is `CURRENCIES`. */
export const CURRENCIES = ['EUR', 'USD', 'GBP', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK', 'PLN', 'CZK', 'CAD', 'AUD'] as const;
export const Currency = Type.Union(
  CURRENCIES.map((c) => Type.Literal(c)),
  { description: 'ISO 4217 currency code' },
);
/** Integer minor units. Bounded so that sums of 100 lines never leave the safe-integer range. */
export const MAX_AMOUNT = 1_000_000_000_000; // 10^12 minor units
export const Money = Type.Integer({ minimum: 0, maximum: MAX_AMOUNT, description: 'integer minor units' });

/** The wire envelope of every message (SPEC §5). */
export const EnvelopeSchema = Type.Object(
  {
    eventId: Uuid,
    eventType: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Z][A-Z_]*$' }),
    schemaVersion: Type.Integer({ minimum: 1 }),
    occurredAt: Type.String({ format: 'date-time' }),
    orderId: Uuid,
    causationId: Type.Union([Uuid, Type.Null()]),
    source: Type.String({ minLength: 1, maxLength: 32 }),
    data: Type.Unknown(),
  },
  { additionalProperties: false },
);
export type Envelope<T = unknown> = Omit<Static<typeof EnvelopeSchema>, 'data'> & { data: T };

/** `ORDER_CREATED` → `order.created` (SPEC §5). */
export function routingKeyOf(eventType: string): string {
  return eventType.toLowerCase().replaceAll('_', '.');
}
