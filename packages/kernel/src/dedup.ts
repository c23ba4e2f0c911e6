import type { Redis } from 'ioredis';
import type { DedupCache } from './service.js';

export interface RedisDedupCacheOptions {
  redis: Redis;
  /** Key prefix, e.g. `commerce:dedup:` (a test uses its own). */
  prefix: string;
  /** Size it above the longest redelivery horizon (retries + DLQ replay window). */
  ttlSeconds: number;
  /** A command slower than this counts as "Redis unavailable" (default 100 ms). */
  timeoutMs?: number;
  /** Handled keys gathered this long, then written in one pipeline (default 20 ms). */
  rememberBatchMs?: number;
}

/** Most keys one pipeline writes; more are gathered meanwhile for the next one. */
const REMEMBER_BATCH_MAX = 500;

/**
 * Redis fast path for duplicates: `SET key 1 NX EX ttl` after a message was handled, `EXISTS`
 * before handling one that may have been. Never blocks or fails handling: when Redis is down, slow or flushed, seen()
 * answers false and the inbox row (the record of truth) decides.
 *
 * remember() does not wait for Redis: the keys of rememberBatchMs go out together, one write and one answer for all
 * (a round trip per handled message cost a consumer more than its AMQP ack). Until then seen() answers from them.
 */
export class RedisDedupCache implements DedupCache {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly timeoutMs: number;
  private readonly rememberBatchMs: number;
  private readonly toRemember = new Set<string>();
  private rememberTimer: NodeJS.Timeout | undefined;

  constructor(o: RedisDedupCacheOptions) {
    if (!Number.isInteger(o.ttlSeconds) || o.ttlSeconds < 1)
      throw new TypeError(`RedisDedupCache: ttlSeconds must be a positive integer, got ${o.ttlSeconds}`);
    this.redis = o.redis;
    this.prefix = o.prefix;
    this.ttlSeconds = o.ttlSeconds;
    this.timeoutMs = o.timeoutMs ?? 100;
    this.rememberBatchMs = o.rememberBatchMs ?? 20;
    if (!(this.rememberBatchMs >= 0))
      throw new TypeError(`RedisDedupCache: rememberBatchMs must be >= 0, got ${o.rememberBatchMs}`);
  }

  async seen(key: string): Promise<boolean> {
    if (this.toRemember.has(this.prefix + key)) return true;
    if (this.redis.status !== 'ready') return false;
    const n = await this.bounded(this.redis.exists(this.prefix + key));
    return n === 1;
  }

  async remember(key: string): Promise<void> {
    if (this.redis.status !== 'ready') return;
    this.toRemember.add(this.prefix + key);
    if (this.toRemember.size >= REMEMBER_BATCH_MAX) this.writeRemembered();
    else if (!this.rememberTimer) {
      this.rememberTimer = setTimeout(() => this.writeRemembered(), this.rememberBatchMs);
      this.rememberTimer.unref();
    }
  }

  /** Writes the gathered keys in one pipeline; a failure forgets them (the inbox still knows every one). */
  private writeRemembered(): void {
    if (this.rememberTimer) clearTimeout(this.rememberTimer);
    this.rememberTimer = undefined;
    if (this.toRemember.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const key of this.toRemember) pipeline.set(key, '1', 'EX', this.ttlSeconds, 'NX');
    this.toRemember.clear();
    void pipeline.exec().catch(() => {});
  }

  /** The command's answer, or undefined if it failed or took too long (it may still complete later). */
  private bounded<T>(p: Promise<T>): Promise<T | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), this.timeoutMs);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        () => {
          clearTimeout(timer);
          resolve(undefined);
        },
      );
    });
  }
}

export interface MemoryDedupCacheOptions {
  /** Most keys kept; the oldest are forgotten first (default 100 000). */
  maxEntries?: number;
  ttlMs?: number;
  now?: () => number;
}

/** In-process dedup cache (embedded default): bounded, with a TTL. */
export class MemoryDedupCache implements DedupCache {
  private readonly entries = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(o: MemoryDedupCacheOptions = {}) {
    this.maxEntries = o.maxEntries ?? 100_000;
    this.ttlMs = o.ttlMs ?? 24 * 3600_000;
    this.now = o.now ?? Date.now;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1)
      throw new TypeError(`MemoryDedupCache: maxEntries must be a positive integer, got ${this.maxEntries}`);
    if (!(this.ttlMs > 0)) throw new TypeError(`MemoryDedupCache: ttlMs must be positive, got ${this.ttlMs}`);
  }

  get size(): number {
    return this.entries.size;
  }

  async seen(key: string): Promise<boolean> {
    const expires = this.entries.get(key);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.entries.delete(key);
      return false;
    }
    return true;
  }

  async remember(key: string): Promise<void> {
    // Re-insert so that Map order stays oldest-first.
    this.entries.delete(key);
    this.entries.set(key, this.now() + this.ttlMs);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}
