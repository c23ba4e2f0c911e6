import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { SUBJECT_PATTERN } from './auth/verifier.js';
import type { Principal } from './http/principal.js';

export interface SignTokenOptions {
  /** HS256 secret (JWT_SECRET or the embedded default's secret file). */
  secret: string;
  sub: string;
  role: Principal['role'];
  /** Lifetime; default one day. */
  ttlSeconds?: number;
  /** Issue time (default now); tests pass a time in the past to make expired tokens. */
  now?: Date;
}

/** A bearer token for `commerce token` and the embedded default's demo tokens (HS256, with iat and exp). */
export async function signToken(opts: SignTokenOptions): Promise<string> {
  if (!SUBJECT_PATTERN.test(opts.sub))
    throw new Error(`sub=${JSON.stringify(opts.sub)}: expected 1–64 characters of [A-Za-z0-9._-]`);
  if (opts.role !== 'customer' && opts.role !== 'admin')
    throw new Error(`role=${JSON.stringify(opts.role)}: expected customer or admin`);
  if (Buffer.byteLength(opts.secret) < 32) throw new Error('secret: expected at least 32 bytes for HS256');
  const ttl = opts.ttlSeconds ?? 86_400;
  if (!Number.isInteger(ttl) || ttl < 1) throw new Error(`ttlSeconds=${ttl}: expected a positive integer`);
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ role: opts.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.sub)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(new TextEncoder().encode(opts.secret));
}

export const EMBEDDED_SECRET_FILE = 'jwt-secret';

/**
 * The embedded default's HS256 secret (SPEC §4): created once under `dataDir` (mode 0600), read afterwards, so
 * tokens printed at one start stay valid after a restart. Safe when two processes start at once.
 */
export async function ensureEmbeddedSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, EMBEDDED_SECRET_FILE);
  await mkdir(dataDir, { recursive: true });
  // Written aside and linked into place, so a concurrent reader never sees a half-written file.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(draft, `${randomBytes(48).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
  try {
    await link(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(draft);
  }
  // Tighten permissions even when the file was made by hand or by an older version.
  await chmod(file, 0o600);
  const secret = (await readFile(file, 'utf8')).trim();
  if (Buffer.byteLength(secret) < 32) throw new Error(`${file}: expected a secret of at least 32 bytes`);
  return secret;
}
