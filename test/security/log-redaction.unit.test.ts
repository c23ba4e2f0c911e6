import { createAuthVerifier, createLogger, loadSettings, signToken } from '@commerce/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { algNoneToken, demoServer, makeTokens, TEST_SECRET, type Tokens } from './fixtures.js';

/** Runs a server at trace level, sends requests carrying tokens, and searches every log line for secrets. */
describe('log redaction', () => {
  const lines: string[] = [];
  let tokens: Tokens;
  let extraToken: string;
  const dbPassword = 'pg-Password-4711';
  const amqpPassword = 'amqp-Password-0815';

  beforeAll(async () => {
    tokens = await makeTokens();
    extraToken = await signToken({ secret: TEST_SECRET, sub: 'cust-a', role: 'customer', ttlSeconds: 60 });
    const log = createLogger({ level: 'trace', destination: { write: (l: string) => lines.push(l) } });
    // What a launcher would log at start: the parsed settings, JWT_SECRET and connection strings included.
    const settings = loadSettings(
      {
        JWT_SECRET: TEST_SECRET,
        ORDER_DATABASE_URL: `postgres://app:${dbPassword}@127.0.0.1:5432/orders`,
        AMQP_URL: `amqp://app:${amqpPassword}@127.0.0.1:5672`,
        REDIS_URL: `redis://:${dbPassword}@127.0.0.1:6379`,
      },
      ['order'],
    );
    log.info({ settings }, 'starting');
    log.info(settings, 'settings at top level');
    // A careless handler that logs what it was given.
    const app = await demoServer({ log, auth: createAuthVerifier({ secret: settings.jwtSecret! }) }, (server) =>
      server.get('/echo', { config: { auth: 'signed-in' } }, async (request) => {
        request.log.info({ headers: request.headers }, 'echo headers');
        request.log.info({ req: request }, 'echo request');
        request.log.info({ authorization: request.headers.authorization, token: extraToken }, 'echo fields');
        return { ok: true };
      }),
    );
    for (const kind of ['customerA', 'admin', 'expired', 'badSignature', 'algNone'] as const) {
      const authorization = `Bearer ${tokens[kind]}`;
      await app.inject({ method: 'GET', url: '/things/cust-a', headers: { authorization } });
      await app.inject({ method: 'POST', url: '/things', headers: { authorization }, payload: { bad: true } });
      await app.inject({ method: 'GET', url: '/boom', headers: { authorization } });
    }
    await app.inject({
      method: 'GET',
      url: '/echo',
      headers: { authorization: `Bearer ${tokens.customerA}`, cookie: 'session=s3cr3t-cookie' },
    });
    await app.close();
  });

  afterAll(() => {
    lines.length = 0;
  });

  it('captured the requests (the check below is not vacuous)', () => {
    const text = lines.join('');
    expect(text).toContain('"msg":"incoming request"');
    expect(text).toContain('/things/cust-a');
    expect(text).toContain('bearer token rejected');
    expect(text).toContain('echo headers');
    expect(text).toContain('[redacted]');
    expect(text).toContain('request failed');
  });

  it('never writes a token, the JWT secret, a cookie or a connection password', () => {
    const text = lines.join('');
    const secrets = {
      ...tokens,
      extraToken,
      algNone: algNoneToken(),
      jwtSecret: TEST_SECRET,
      dbPassword,
      amqpPassword,
      cookie: 's3cr3t-cookie',
    };
    for (const [name, value] of Object.entries(secrets)) {
      expect(text.includes(value), `${name} appears in the log`).toBe(false);
      // No signature part of any token either (a token split across fields is still a leak).
      const signature = value.split('.')[2];
      if (signature && signature.length > 10)
        expect(text.includes(signature), `${name}'s signature appears in the log`).toBe(false);
    }
  });
});
