import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { algNoneToken, TEST_SECRET } from '../../../../test/security/fixtures.js';
import { createHttpServer } from '../http/server.js';
import { createLogger } from '../log.js';
import { ensureEmbeddedSecret, signToken } from '../tokens.js';
import { AuthError, createAuthVerifier } from './verifier.js';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
const now = () => Math.floor(Date.now() / 1000);

async function sign(
  key: KeyPair['privateKey'] | Uint8Array,
  header: { alg: string; kid?: string },
  claims: Record<string, unknown>,
) {
  return new SignJWT(claims).setProtectedHeader({ ...header, typ: 'JWT' }).sign(key);
}

describe('JWKS verification (RS256 and ES256 from a local key server)', () => {
  let server: Server;
  let url: string;
  let fetches = 0;
  let keySet: { keys: JWK[] } = { keys: [] };
  let rsa: KeyPair;
  let ec: KeyPair;
  let rotated: KeyPair;

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    ec = await generateKeyPair('ES256', { extractable: true });
    rotated = await generateKeyPair('RS256', { extractable: true });
    keySet = {
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
        { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
      ],
    };
    server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(keySet));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('verifies RS256 and ES256 tokens and returns the principal', async () => {
    const verifier = createAuthVerifier({ jwksUrl: url });
    const claims = { sub: 'cust-a', role: 'customer', iat: now(), exp: now() + 300 };
    await expect(verifier.verify(await sign(rsa.privateKey, { alg: 'RS256', kid: 'rsa-1' }, claims))).resolves.toEqual({
      sub: 'cust-a',
      role: 'customer',
    });
    await expect(
      verifier.verify(await sign(ec.privateKey, { alg: 'ES256', kid: 'ec-1' }, { ...claims, role: 'admin' })),
    ).resolves.toEqual({ sub: 'cust-a', role: 'admin' });
  });

  it('caches the key set, and refetches it when a token names an unknown kid (key rotation)', async () => {
    // Without the verified-token cache: the same token string is checked against the key set every time.
    const verifier = createAuthVerifier({ jwksUrl: url, jwksCooldownMs: 0, cacheSize: 0 });
    const claims = { sub: 'cust-a', role: 'customer', iat: now(), exp: now() + 300 };
    const before = fetches;
    await verifier.verify(await sign(rsa.privateKey, { alg: 'RS256', kid: 'rsa-1' }, claims));
    await verifier.verify(await sign(rsa.privateKey, { alg: 'RS256', kid: 'rsa-1' }, claims));
    expect(fetches - before).toBe(1);
    const newToken = await sign(rotated.privateKey, { alg: 'RS256', kid: 'rsa-2' }, claims);
    await expect(verifier.verify(newToken)).rejects.toThrow(/unknown key/);
    // The issuer rotates: the new key is published and the old one dropped.
    keySet = {
      keys: [{ ...(await exportJWK(rotated.publicKey)), kid: 'rsa-2', alg: 'RS256', use: 'sig' }, keySet.keys[1]!],
    };
    const fetchesBeforeRotation = fetches;
    await expect(verifier.verify(newToken)).resolves.toEqual({ sub: 'cust-a', role: 'customer' });
    expect(fetches).toBe(fetchesBeforeRotation + 1);
    await expect(verifier.verify(await sign(rsa.privateKey, { alg: 'RS256', kid: 'rsa-1' }, claims))).rejects.toThrow(
      AuthError,
    );
    keySet.keys.push({ ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' });
  });

  it('remembers a verified token (no key set fetch, no signature check) for at most 60 s, and never past exp', async () => {
    let t = Date.now();
    // A key set never fresh (max age 0: jose's `Date.now() < fetchedAt + 0` is always false, whatever time passed):
    // every verification that reaches jose fetches it again, so no fetch proves the verified-token cache answered.
    const verifier = createAuthVerifier({ jwksUrl: url, jwksCooldownMs: 0, jwksCacheMaxAgeMs: 0, now: () => t });
    const exp = Math.floor(t / 1000) + 120;
    const token = await sign(ec.privateKey, { alg: 'ES256', kid: 'ec-1' }, { sub: 'cust-c', role: 'customer', exp });
    await expect(verifier.verify(token)).resolves.toEqual({ sub: 'cust-c', role: 'customer' });
    const saved = keySet;
    keySet = { keys: saved.keys.filter((k) => k.kid !== 'ec-1') }; // the issuer drops the key
    try {
      const before = fetches;
      t += 30_000;
      await expect(verifier.verify(token)).resolves.toEqual({ sub: 'cust-c', role: 'customer' });
      expect(fetches).toBe(before);
      // Past VERIFIED_TOKEN_TTL_MS it is checked again: the key is gone.
      t += 31_000;
      await expect(verifier.verify(token)).rejects.toThrow(/unknown key/);
      expect(fetches).toBeGreaterThan(before);
    } finally {
      keySet = saved;
    }
    // Valid again once the key is back; and a remembered token expires with its exp (+30 s tolerance).
    await expect(verifier.verify(token)).resolves.toEqual({ sub: 'cust-c', role: 'customer' });
    t = (exp + 31) * 1000;
    await expect(verifier.verify(token)).rejects.toThrow(/expired/);
  });

  it('rejects algorithm confusion: an HS256 token "signed" with the RSA public key', async () => {
    const verifier = createAuthVerifier({ jwksUrl: url });
    const claims = { sub: 'mallory', role: 'admin', iat: now(), exp: now() + 300 };
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const jwk = keySet.keys.find((k) => k.kid === 'rsa-1')!;
    const confused = await sign(pem, { alg: 'HS256', kid: 'rsa-1' }, claims);
    await expect(verifier.verify(confused)).rejects.toThrow(AuthError);
    await expect(verifier.verify(confused)).rejects.toThrow(/algorithm not allowed/);
    const confusedJwk = await sign(
      new TextEncoder().encode(JSON.stringify(jwk)),
      { alg: 'HS256', kid: 'rsa-1' },
      claims,
    );
    await expect(verifier.verify(confusedJwk)).rejects.toThrow(AuthError);
    // An ES256 header on an RSA key id is not accepted either.
    const crossed = await sign(ec.privateKey, { alg: 'ES256', kid: 'rsa-1' }, claims);
    await expect(verifier.verify(crossed)).rejects.toThrow(AuthError);
    await expect(verifier.verify(algNoneToken())).rejects.toThrow(AuthError);
  });

  it('answers 401 over HTTP for the confused token and 200 for a real one', async () => {
    const app = await createHttpServer({
      service: 'payment',
      title: 't',
      version: '0',
      log: createLogger({ level: 'silent' }),
      auth: createAuthVerifier({ jwksUrl: url }),
      rateLimit: null,
      readiness: {},
    });
    app.get('/me', { config: { auth: 'signed-in' } }, async (request) => request.principal);
    const claims = { sub: 'cust-a', role: 'customer', iat: now(), exp: now() + 300 };
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const bad = await app.inject({
      url: '/me',
      headers: { authorization: `Bearer ${await sign(pem, { alg: 'HS256', kid: 'rsa-1' }, claims)}` },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['www-authenticate']).toContain('error="invalid_token"');
    const good = await app.inject({
      url: '/me',
      headers: { authorization: `Bearer ${await sign(ec.privateKey, { alg: 'ES256', kid: 'ec-1' }, claims)}` },
    });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toEqual({ sub: 'cust-a', role: 'customer' });
    await app.close();
  });

  it('answers 503, not 401, when the key server is unreachable', async () => {
    const app = await createHttpServer({
      service: 'payment',
      title: 't',
      version: '0',
      log: createLogger({ level: 'silent' }),
      auth: createAuthVerifier({ jwksUrl: 'http://127.0.0.1:9/jwks.json' }),
      rateLimit: null,
      readiness: {},
    });
    app.get('/me', { config: { auth: 'signed-in' } }, async (request) => request.principal);
    const token = await sign(
      rsa.privateKey,
      { alg: 'RS256', kid: 'rsa-1' },
      { sub: 'a', role: 'customer', exp: now() + 60 },
    );
    const res = await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(503);
    await app.close();
  });
});

describe('HS256 verification and claims', () => {
  const verifier = createAuthVerifier({ secret: TEST_SECRET });
  const key = new TextEncoder().encode(TEST_SECRET);

  it('accepts a token from signToken', async () => {
    const token = await signToken({ secret: TEST_SECRET, sub: 'cust.a_1-x', role: 'customer', ttlSeconds: 60 });
    await expect(verifier.verify(token)).resolves.toEqual({ sub: 'cust.a_1-x', role: 'customer' });
  });

  it('requires exp, and honours exp/nbf/iat with 30 s of tolerance', async () => {
    await expect(verifier.verify(await sign(key, { alg: 'HS256' }, { sub: 'a', role: 'customer' }))).rejects.toThrow(
      /exp/,
    );
    // Expired 20 s ago: within tolerance. 60 s ago: refused.
    await expect(
      verifier.verify(await sign(key, { alg: 'HS256' }, { sub: 'a', role: 'customer', exp: now() - 20 })),
    ).resolves.toEqual({ sub: 'a', role: 'customer' });
    await expect(
      verifier.verify(await sign(key, { alg: 'HS256' }, { sub: 'a', role: 'customer', exp: now() - 60 })),
    ).rejects.toThrow(/expired/);
    await expect(
      verifier.verify(
        await sign(key, { alg: 'HS256' }, { sub: 'a', role: 'customer', exp: now() + 600, nbf: now() + 120 }),
      ),
    ).rejects.toThrow(/nbf/);
    await expect(
      verifier.verify(
        await sign(key, { alg: 'HS256' }, { sub: 'a', role: 'customer', exp: now() + 600, iat: now() + 120 }),
      ),
    ).rejects.toThrow(/iat/);
  });

  it('validates sub and role', async () => {
    const exp = now() + 60;
    await expect(
      verifier.verify(await sign(key, { alg: 'HS256' }, { sub: 'a b', role: 'customer', exp })),
    ).rejects.toThrow(/sub/);
    await expect(
      verifier.verify(await sign(key, { alg: 'HS256' }, { sub: 'x'.repeat(65), role: 'customer', exp })),
    ).rejects.toThrow(/sub/);
    await expect(verifier.verify(await sign(key, { alg: 'HS256' }, { sub: 'a', role: 'root', exp }))).rejects.toThrow(
      /role/,
    );
    await expect(verifier.verify(await sign(key, { alg: 'HS256' }, { sub: 'a', exp }))).rejects.toThrow(/role/);
  });

  it('rejects other HMAC algorithms and alg:none', async () => {
    const hs512 = await new SignJWT({ sub: 'a', role: 'admin' })
      .setProtectedHeader({ alg: 'HS512' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_SECRET.repeat(2)));
    await expect(verifier.verify(hs512)).rejects.toThrow(/algorithm/);
    await expect(verifier.verify(algNoneToken())).rejects.toThrow(AuthError);
  });

  it('signToken refuses a bad sub, role or short secret', async () => {
    await expect(signToken({ secret: TEST_SECRET, sub: 'a/b', role: 'customer' })).rejects.toThrow(/sub/);
    await expect(signToken({ secret: TEST_SECRET, sub: 'a', role: 'root' as 'admin' })).rejects.toThrow(/role/);
    await expect(signToken({ secret: 'short', sub: 'a', role: 'admin' })).rejects.toThrow(/32 bytes/);
  });
});

describe('ensureEmbeddedSecret', () => {
  it('creates a 0600 secret once under DATA_DIR and reads the same one afterwards', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cp-secret-'));
    try {
      const dataDir = join(dir, 'nested', 'data');
      const [a, b] = await Promise.all([ensureEmbeddedSecret(dataDir), ensureEmbeddedSecret(dataDir)]);
      expect(a).toBe(b);
      expect(Buffer.byteLength(a)).toBeGreaterThanOrEqual(32);
      expect(await ensureEmbeddedSecret(dataDir)).toBe(a);
      const info = await stat(join(dataDir, 'jwt-secret'));
      expect(info.mode & 0o777).toBe(0o600);
      expect((await readFile(join(dataDir, 'jwt-secret'), 'utf8')).trim()).toBe(a);
      const token = await signToken({ secret: a, sub: 'demo-customer', role: 'customer' });
      await expect(createAuthVerifier({ secret: a }).verify(token)).resolves.toMatchObject({ sub: 'demo-customer' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
