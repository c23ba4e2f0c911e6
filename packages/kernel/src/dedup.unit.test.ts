import { describe, expect, it } from 'vitest';
import { MemoryDedupCache } from './dedup.js';

describe('MemoryDedupCache', () => {
  it('remembers a key until its TTL ends', async () => {
    let now = 1000;
    const cache = new MemoryDedupCache({ ttlMs: 100, now: () => now });
    expect(await cache.seen('a')).toBe(false);
    await cache.remember('a');
    expect(await cache.seen('a')).toBe(true);
    now += 99;
    expect(await cache.seen('a')).toBe(true);
    now += 1;
    expect(await cache.seen('a')).toBe(false);
    expect(cache.size).toBe(0);
  });

  it('stays bounded, forgetting the oldest keys first', async () => {
    const cache = new MemoryDedupCache({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await cache.remember(k);
    await cache.remember('a'); // refreshed: now the newest
    await cache.remember('d');
    expect(cache.size).toBe(3);
    expect(await cache.seen('b')).toBe(false);
    expect(await Promise.all(['a', 'c', 'd'].map((k) => cache.seen(k)))).toEqual([true, true, true]);
  });

  it('rejects nonsense settings with a message naming them', () => {
    expect(() => new MemoryDedupCache({ maxEntries: 0 })).toThrow(/maxEntries/);
    expect(() => new MemoryDedupCache({ ttlMs: -1 })).toThrow(/ttlMs/);
  });
});
