import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeWith, REDIS_URL, uniqueName } from '../../../test/support/services.js';
import { migrate } from './db/migrate.js';
import { PgDatabase } from './db/pg.js';
import { RedisDedupCache } from './dedup.js';
import { commitChange } from './effect.js';
import { createLogger } from './log.js';
import { KERNEL_MIGRATIONS } from './schema.js';
import type { DedupCache } from './service.js';

const log = createLogger({ level: 'silent' });

describeWith(['postgres', 'redis'], 'inbox while Redis forgets everything', () => {
  let t: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: PgDatabase;
  let redis: Redis;
  const prefix = `${uniqueName('cp_inbox')}:`;
  beforeAll(async () => {
    t = await createTestDatabase('inboxflush');
    db = new PgDatabase({ url: t.url, poolSize: 6, log });
    await migrate(db, 'kernel', KERNEL_MIGRATIONS);
    await db.exec('CREATE TABLE effects (message_id text NOT NULL)');
    redis = new Redis(REDIS_URL);
    await redis.ping();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await db?.close();
    await t?.drop();
  });

  it('(d) FLUSHALL in the middle of a duplicated stream: effects applied == distinct messages', async () => {
    const inner = new RedisDedupCache({ redis, prefix, ttlSeconds: 600 });
    let cacheHits = 0;
    const dedup: DedupCache = {
      seen: async (k) => {
        const s = await inner.seen(k);
        if (s) cacheHits++;
        return s;
      },
      remember: (k) => inner.remember(k),
    };
    const distinct = Array.from({ length: 150 }, () => randomUUID());
    // Every message three times: once, again right after, and once more much later.
    const stream: string[] = [];
    distinct.forEach((id, i) => {
      stream.push(id, id);
      if (i >= 50) stream.push(distinct[i - 50] as string);
    });
    stream.push(...distinct.slice(100));

    let applied = 0;
    let skipped = 0;
    let flushedAt = -1;
    // Every delivery after an id's first one comes as a redelivery would, so the cache is asked first.
    const delivered = new Set<string>();
    const handle = async (id: string) => {
      const maybeHandled = delivered.has(id);
      delivered.add(id);
      const r = await commitChange(
        db,
        {
          inbox: { consumer: 'flush-test', messageId: id },
          load: async () => undefined,
          decide: () => ({
            result: id,
            effect: { writes: [{ sql: 'INSERT INTO effects (message_id) VALUES ($1)', params: [id] }] },
          }),
        },
        { dedup, maybeHandled },
      );
      if (r.kind === 'applied') applied++;
      else skipped++;
    };
    for (let i = 0; i < stream.length; i += 4) {
      if (flushedAt < 0 && i >= stream.length / 2) {
        await redis.flushall();
        flushedAt = i;
      }
      await Promise.all(stream.slice(i, i + 4).map(handle));
    }
    const hitsTotal = cacheHits;

    const effects = await db.query<{ n: number; d: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS d FROM effects',
    );
    expect(effects.rows[0]).toEqual({ n: distinct.length, d: distinct.length });
    expect(applied).toBe(distinct.length);
    expect(skipped).toBe(stream.length - distinct.length);
    // The cache did skip duplicates, and the inbox caught those the flush made it forget.
    expect(hitsTotal).toBeGreaterThan(0);
    expect(hitsTotal).toBeLessThan(skipped);
    console.log(
      `stream ${stream.length}, distinct ${distinct.length}, cache hits ${hitsTotal}, flushed at ${flushedAt}`,
    );
  });
});
