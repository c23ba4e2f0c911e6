import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, REDIS_URL, uniqueName, waitFor } from '../../../test/support/services.js';
import { RedisDedupCache } from './dedup.js';

describeWith(['redis'], 'RedisDedupCache', () => {
  let redis: Redis;
  const prefix = `${uniqueName('cp_dedup')}:`;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    await redis.ping();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('remembers with SET NX EX under its prefix, written at the end of its batch window', async () => {
    const cache = new RedisDedupCache({ redis, prefix, ttlSeconds: 30, rememberBatchMs: 50 });
    expect(await cache.seen('consumer:m1')).toBe(false);
    for (const m of ['m1', 'm3', 'm4']) await cache.remember(`consumer:${m}`);
    // Answered from the batch before it is written; not yet in Redis.
    expect(await cache.seen('consumer:m1')).toBe(true);
    expect(await cache.seen('consumer:m2')).toBe(false);
    expect(await redis.exists(`${prefix}consumer:m1`)).toBe(0);
    // Another instance (another process) sees them once the window closes, all three with their TTL.
    const other = new RedisDedupCache({ redis, prefix, ttlSeconds: 30 });
    await waitFor(async () => ((await other.seen('consumer:m4')) ? true : undefined), { what: 'the batch written' });
    for (const m of ['m1', 'm3', 'm4']) {
      const ttl = await redis.ttl(`${prefix}consumer:${m}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30);
    }
  });

  it('answers "not seen" at once, never fails, when Redis is unreachable', async () => {
    const down = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: false, maxRetriesPerRequest: null });
    down.on('error', () => {});
    try {
      const cache = new RedisDedupCache({ redis: down, prefix, ttlSeconds: 30 });
      const started = Date.now();
      expect(await cache.seen('x')).toBe(false);
      await expect(cache.remember('x')).resolves.toBeUndefined();
      expect(Date.now() - started).toBeLessThan(500);
    } finally {
      down.disconnect();
    }
  });

  it('answers "not seen" within its timeout when Redis hangs', async () => {
    const slow = new Redis(REDIS_URL);
    try {
      await slow.ping();
      const cache = new RedisDedupCache({ redis: slow, prefix, ttlSeconds: 30, timeoutMs: 50 });
      await slow.set(`${prefix}hang`, '1', 'EX', 30); // known to Redis: only a timeout answers "not seen"
      // A blocking command holds the connection: the next command waits behind it.
      const blocked = slow.blpop(`${prefix}never`, 1).catch(() => null);
      const started = Date.now();
      expect(await cache.seen('hang')).toBe(false);
      expect(Date.now() - started).toBeLessThan(400);
      await blocked;
    } finally {
      slow.disconnect();
    }
  });

  it('refuses a nonsense TTL', () => {
    expect(() => new RedisDedupCache({ redis, prefix, ttlSeconds: 0 })).toThrow(/ttlSeconds/);
  });
});
