/** Webhook signing secrets at rest: AES-256-GCM with the key of WEBHOOK_SECRET_KEY (docs/webhooks.md). */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/** `v1:<base64 iv>:<base64 tag>:<base64 ciphertext>`. */
export function encryptSecret(key: Buffer, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
}

export function decryptSecret(key: Buffer, stored: string): string {
  const [version, iv, tag, ct] = stored.split(':');
  if (version !== VERSION || !iv || !tag || ct === undefined) throw new Error('webhook secret: unknown storage format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('webhook secret cannot be decrypted: WEBHOOK_SECRET_KEY is not the key it was stored with');
  }
}
