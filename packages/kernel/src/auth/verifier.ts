import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import type { Principal } from '../http/principal.js';

/** Turns a bearer token into a principal, or throws `AuthError`. */
export interface AuthVerifier {
  verify(token: string): Promise<Principal>;
}

/** A token that cannot be trusted. `message` is safe to show to the caller (it never contains the token). */
export class AuthError extends Error {
  override readonly name = 'AuthError';
}

export type AuthVerifierOptions = (
  | { secret: string }
  | {
      jwksUrl: string;
      /** Minimum time between two fetches of the key set when a token names an unknown key (default 30 s). */
      jwksCooldownMs?: number;
      /** How long a fetched key set is trusted before it is fetched again (default 10 min). */
      jwksCacheMaxAgeMs?: number;
    }
) & {
  /** The clock (ms since the epoch); default Date.now. */
  now?: () => number;
  /** Verified tokens remembered (default 10,000; 0 turns the cache off). */
  cacheSize?: number;
};

/** A remembered token is checked again (signature, key set) at least this often. */
export const VERIFIED_TOKEN_TTL_MS = 60_000;

/** 1–64 characters of [A-Za-z0-9._-] (SPEC §4 identifiers). */
export const SUBJECT_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const CLOCK_TOLERANCE_SECONDS = 30;
const ROLES = new Set(['customer', 'admin']);
const MAX_TOKEN_LENGTH = 8192;

/**
 * Verifies bearer JWTs (SPEC §4): HS256 with a shared secret, or RS256/ES256 with keys from a JWKS URL.
 * Algorithms are pinned to the kind of key configured, so `alg: none` and algorithm confusion (an HS256 token
 * "signed" with a public key) are rejected; `exp` is required; `nbf`/`iat` are checked with 30 s of clock skew.
 */
export function createAuthVerifier(opts: AuthVerifierOptions): AuthVerifier {
  const clock = opts.now ?? Date.now;
  const common = (): JWTVerifyOptions => ({
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ['exp', 'sub'],
    currentDate: new Date(clock()),
  });
  let check: (token: string) => Promise<JWTPayload>;
  if ('secret' in opts) {
    if (Buffer.byteLength(opts.secret) < 32) throw new Error('JWT secret: expected at least 32 bytes for HS256');
    // Imported once: jose would import raw key bytes again at every verification.
    const key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(opts.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    check = async (token) => (await jwtVerify(token, await key, { ...common(), algorithms: ['HS256'] })).payload;
  } else {
    // jose picks the key by kid and key type and refetches the set when a token names a kid it does not know.
    const keys = createRemoteJWKSet(new URL(opts.jwksUrl), {
      cooldownDuration: opts.jwksCooldownMs ?? 30_000,
      cacheMaxAge: opts.jwksCacheMaxAgeMs ?? 600_000,
      timeoutDuration: 5000,
    });
    check = async (token) => (await jwtVerify(token, keys, { ...common(), algorithms: ['RS256', 'ES256'] })).payload;
  }
  // Verified tokens: a token string's signature cannot change, and the claims checked after it only get "more
  // valid" as time passes (nbf, iat) except exp. So a token that passed is accepted again without the signature
  // work until it expires (exp + tolerance), and at most VERIFIED_TOKEN_TTL_MS later (a key removed from a key
  // set stops being honoured within that). Refused tokens are never remembered.
  const cacheSize = opts.cacheSize ?? 10_000;
  const verified = new Map<string, { principal: Principal; until: number }>();
  return {
    async verify(token: string): Promise<Principal> {
      if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('token too long');
      const hit = verified.get(token);
      if (hit && clock() < hit.until) return hit.principal;
      if (hit) verified.delete(token);
      let payload: JWTPayload;
      try {
        payload = await check(token);
      } catch (err) {
        // A key set we cannot fetch is our outage, not the caller's fault: it is not an AuthError.
        if (err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError))
          throw new Error(`signing keys unavailable: ${(err as Error).message}`);
        throw new AuthError(describeJoseError(err));
      }
      const now = clock();
      const principal = principalOf(payload, now);
      if (cacheSize > 0 && typeof payload.exp === 'number') {
        if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string); // the oldest
        verified.set(token, {
          principal,
          until: Math.min(now + VERIFIED_TOKEN_TTL_MS, (payload.exp + CLOCK_TOLERANCE_SECONDS) * 1000),
        });
      }
      return principal;
    },
  };
}

function principalOf(payload: JWTPayload, nowMs: number): Principal {
  const now = Math.floor(nowMs / 1000);
  if (typeof payload.iat === 'number' && payload.iat > now + CLOCK_TOLERANCE_SECONDS)
    throw new AuthError('token issued in the future ("iat")');
  const { sub, role } = payload as { sub?: unknown; role?: unknown };
  if (typeof sub !== 'string' || !SUBJECT_PATTERN.test(sub))
    throw new AuthError('claim "sub": expected 1–64 characters of [A-Za-z0-9._-]');
  if (typeof role !== 'string' || !ROLES.has(role)) throw new AuthError('claim "role": expected customer or admin');
  return { sub, role: role as Principal['role'] };
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim "${err.claim}" ${err.reason}`.trim();
  if (err instanceof errors.JOSEAlgNotAllowed) return 'token algorithm not allowed';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'token signed with an unknown key';
  if (err instanceof errors.JWKSInvalid) return 'signing keys unusable';
  if (err instanceof errors.JOSENotSupported) return 'token algorithm not supported';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'token malformed';
  return 'token invalid';
}
