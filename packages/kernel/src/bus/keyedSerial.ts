/**
 * Runs tasks of the same key strictly one after another, in submission order; tasks of different
 * keys run concurrently. This is how one partition keeps per-order order while still handling many
 * orders at once (its prefetch).
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<void>>();

  /** Queues `task` behind every earlier task of `key`; resolves/rejects with the task. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves when every task submitted so far has settled. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }

  get pendingKeys(): number {
    return this.tails.size;
  }
}

/** A counting semaphore: at most `limit` holders at once (a partition's prefetch, in process). */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}
