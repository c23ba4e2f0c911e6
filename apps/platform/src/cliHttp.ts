/**
 * What the CLI's verbs share to reach the running platform: the admin token (given, from COMMERCE_TOKEN, or signed
 * with JWT_SECRET / the embedded secret under DATA_DIR) and a generic call to an admin route.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Settings, signToken } from '@commerce/kernel';

/** A mistake in how the CLI was called (or what it was pointed at): exit 2 with the message. */
export class UsageError extends Error {}

export async function adminToken(settings: Settings, explicit?: string): Promise<string> {
  if (explicit) return explicit;
  if (settings.commerceToken) return settings.commerceToken;
  return signToken({ secret: await secretOf(settings), sub: 'operator', role: 'admin', ttlSeconds: 600 });
}

export async function secretOf(settings: Settings): Promise<string> {
  if (settings.jwtSecret) return settings.jwtSecret;
  try {
    return (await readFile(join(settings.dataDir, 'jwt-secret'), 'utf8')).trim();
  } catch {
    throw new UsageError(
      `no JWT_SECRET and no embedded secret at ${join(settings.dataDir, 'jwt-secret')}: set JWT_SECRET (or DATA_DIR), or pass --token`,
    );
  }
}

/**
 * A call to an admin route the typed client has no method for yet (the projection and archive verbs, whose
 * runners take a generic caller). Same messages as the client's: unreachable → exit 2 naming the URL.
 */
export async function api(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new UsageError(
      `cannot reach ${base} (${(err as Error).cause ?? (err as Error).message}): is the platform running? (--url)`,
    );
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  if (res.status >= 400) {
    const detail = (parsed as { detail?: string })?.detail ?? text;
    throw new UsageError(`${method} ${path} answered ${res.status}: ${detail}`);
  }
  return { status: res.status, body: parsed };
}
