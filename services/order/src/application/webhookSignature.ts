/**
 * Standard Webhooks signing (standardwebhooks.com): `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the key
 * the secret's base64 part after `whsec_`. Pure: the same inputs give the same header.
 */
import { createHmac, randomBytes } from 'node:crypto';

const PREFIX = 'whsec_';

/** A new signing secret, `whsec_` + 24 random bytes in base64 (what Svix and the reference libraries make). */
export function newWebhookSecret(bytes: Buffer = randomBytes(24)): string {
  return PREFIX + bytes.toString('base64');
}

export function isWebhookSecret(secret: string): boolean {
  return /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret);
}

/** One `v1,<signature>` of the message with one secret. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The `webhook-signature` header: one signature per valid secret (during a rotation, the new and the old), spaces between. */
export function signatureHeader(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): string {
  return secrets.map((s) => signWebhook(s, id, timestampSeconds, body)).join(' ');
}

/** The headers of one attempt (timestamp in seconds, as the specification says). */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  now: Date,
  body: string,
): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature' | 'content-type', string> {
  const ts = Math.floor(now.getTime() / 1000);
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': signatureHeader(secrets, id, ts, body),
  };
}

/** The JSON body of a delivery: the event envelope and a link to the order. */
export function webhookBody(e: {
  eventId: string;
  eventType: string;
  orderId: string | null;
  occurredAt: string;
  version: number | null;
  data: unknown;
}): string {
  return JSON.stringify({
    id: e.eventId,
    type: e.eventType,
    orderId: e.orderId,
    occurredAt: e.occurredAt,
    version: e.version,
    data: e.data,
    links: e.orderId ? { order: `/orders/${e.orderId}` } : {},
  });
}
