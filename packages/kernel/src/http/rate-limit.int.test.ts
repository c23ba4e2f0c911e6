import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { authHeader, demoServer, makeTokens, type Tokens } from '../../../../test/security/fixtures.js';
import { describeWith, REDIS_URL, uniqueName } from '../../../../test/support/services.js';

describeWith(['redis'], 'rate limits shared through Redis', () => {
  let redis: Redis;
  let tokens: Tokens;
  const prefix = `${uniqueName('cp_ratelimit')}:`;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true });
    await redis.connect();
    tokens = await makeTokens();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('holds one limit per client across two instances: 10/minute, 6 + 6 requests → 10 pass, 2 get 429', async () => {
    const options = { rateLimit: { max: 10, windowMs: 60_000 }, redis, rateLimitPrefix: prefix };
    const [a, b] = await Promise.all([demoServer(options), demoServer(options)]);
    try {
      const statuses: number[] = [];
      const limited: { retryAfter: unknown; body: Record<string, unknown>; type: unknown }[] = [];
      for (let i = 0; i < 6; i++) {
        for (const server of [a, b]) {
          const res = await server.inject({
            method: 'GET',
            url: '/things/cust-a',
            headers: authHeader(tokens, 'customerA'),
          });
          statuses.push(res.statusCode);
          if (res.statusCode === 429)
            limited.push({
              retryAfter: res.headers['retry-after'],
              body: res.json(),
              type: res.headers['content-type'],
            });
        }
      }
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(2);
      // The two refused are the last two, one on each instance: the count is shared, not per instance.
      expect(statuses.slice(10)).toEqual([429, 429]);
      for (const l of limited) {
        expect(Number(l.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(Number(l.retryAfter)).toBeLessThanOrEqual(60);
        expect(l.type).toMatch(/^application\/problem\+json/);
        expect(l.body).toMatchObject({
          status: 429,
          title: 'Too Many Requests',
          detail: expect.stringMatching(/retry in/),
        });
      }
      // The limit is per client (the token's sub): another customer is not affected, even from the same address.
      const other = await a.inject({ method: 'GET', url: '/things/cust-b', headers: authHeader(tokens, 'customerB') });
      expect(other.statusCode).toBe(200);
      // Health and metrics stay reachable for the probes.
      expect((await b.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
      expect((await b.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
      // The counters live in Redis under the prefix (the record that makes the limit shared).
      expect(await redis.get(`${prefix}sub:cust-a`)).toBe('12');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('limits anonymous callers by address, and counts refused tokens too', async () => {
    const p2 = `${prefix}anon:`;
    const server = await demoServer({ rateLimit: { max: 3, windowMs: 60_000 }, redis, rateLimitPrefix: p2 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push(
          (await server.inject({ method: 'GET', url: '/things/cust-a', headers: authHeader(tokens, 'badSignature') }))
            .statusCode,
        );
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await server.close();
    }
  });

  it('lets requests through (fails open) while its Redis is unreachable', async () => {
    // A client for a port nobody listens on: the shared Redis is not disturbed.
    const down = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
    });
    down.on('error', () => {});
    const server = await demoServer({
      rateLimit: { max: 1, windowMs: 60_000 },
      redis: down,
      rateLimitPrefix: `${prefix}down:`,
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push(
          (await server.inject({ method: 'GET', url: '/things/cust-a', headers: authHeader(tokens, 'customerA') }))
            .statusCode,
        );
      expect(statuses).toEqual([200, 200, 200]);
    } finally {
      await server.close();
      down.disconnect();
    }
  });
});
