/**
 * Where the in-process bus keeps dead letters: memory (tests) or the consuming service's own
 * database (the embedded default), so that a dead letter survives a crash and can be replayed.
 */
import { migrate } from '../db/migrate.js';
import type { Database } from '../db/port.js';
import type { DeadLetter } from './port.js';

export interface DeadLetterStore {
  /** Stores (or replaces, for the same queue and id) a dead letter. */
  add(dl: DeadLetter): Promise<void>;
  list(queue: string, limit?: number): Promise<DeadLetter[]>;
  get(queue: string, id: string): Promise<DeadLetter | undefined>;
  remove(queue: string, id: string): Promise<boolean>;
  /** Queues with at least one dead letter, with their count. */
  depths(): Promise<Map<string, number>>;
}

export class MemoryDeadLetterStore implements DeadLetterStore {
  private readonly byQueue = new Map<string, Map<string, DeadLetter>>();

  async add(dl: DeadLetter): Promise<void> {
    let q = this.byQueue.get(dl.queue);
    if (!q) {
      q = new Map();
      this.byQueue.set(dl.queue, q);
    }
    q.delete(dl.id);
    q.set(dl.id, { ...dl });
  }
  async list(queue: string, limit = 100): Promise<DeadLetter[]> {
    return [...(this.byQueue.get(queue)?.values() ?? [])].slice(0, limit).map((d) => ({ ...d }));
  }
  async get(queue: string, id: string): Promise<DeadLetter | undefined> {
    const d = this.byQueue.get(queue)?.get(id);
    return d && { ...d };
  }
  async remove(queue: string, id: string): Promise<boolean> {
    return this.byQueue.get(queue)?.delete(id) ?? false;
  }
  async depths(): Promise<Map<string, number>> {
    return new Map([...this.byQueue].filter(([, q]) => q.size > 0).map(([name, q]) => [name, q.size]));
  }
}

export const DEAD_LETTER_MIGRATIONS = [
  {
    version: 1,
    name: 'dead letters of the in-process bus',
    sql: `
CREATE TABLE IF NOT EXISTS dead_letters (
  seq bigserial,
  queue text NOT NULL,
  id text NOT NULL,
  reason text NOT NULL,
  attempts integer NOT NULL,
  dead_lettered_at timestamptz NOT NULL,
  exchange text,
  routing_key text,
  body text NOT NULL,
  PRIMARY KEY (queue, id)
);
CREATE INDEX IF NOT EXISTS dead_letters_queue_seq ON dead_letters (queue, seq);
`,
  },
];

interface Row {
  queue: string;
  id: string;
  reason: string;
  attempts: number;
  dead_lettered_at: Date | string;
  exchange: string | null;
  routing_key: string | null;
  body: string;
}

function toDeadLetter(r: Row): DeadLetter {
  return {
    id: r.id,
    queue: r.queue,
    reason: r.reason,
    attempts: Number(r.attempts),
    deadLetteredAt: new Date(r.dead_lettered_at).toISOString(),
    exchange: r.exchange ?? undefined,
    routingKey: r.routing_key ?? undefined,
    body: r.body,
  };
}

/** Dead letters in the service's database (table `dead_letters`, created by `init()`). */
export class DbDeadLetterStore implements DeadLetterStore {
  private ready: Promise<unknown> | undefined;
  constructor(private readonly db: Database) {}

  /** Creates the table; called lazily by every operation, safe to call twice. */
  init(): Promise<unknown> {
    this.ready ??= migrate(this.db, 'dead_letters', DEAD_LETTER_MIGRATIONS).catch((err) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  async add(dl: DeadLetter): Promise<void> {
    await this.init();
    await this.db.query(
      `INSERT INTO dead_letters (queue, id, reason, attempts, dead_lettered_at, exchange, routing_key, body)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (queue, id) DO UPDATE SET reason = EXCLUDED.reason, attempts = EXCLUDED.attempts,
         dead_lettered_at = EXCLUDED.dead_lettered_at, exchange = EXCLUDED.exchange,
         routing_key = EXCLUDED.routing_key, body = EXCLUDED.body`,
      [dl.queue, dl.id, dl.reason, dl.attempts, dl.deadLetteredAt, dl.exchange ?? null, dl.routingKey ?? null, dl.body],
    );
  }
  async list(queue: string, limit = 100): Promise<DeadLetter[]> {
    await this.init();
    const res = await this.db.query<Row>('SELECT * FROM dead_letters WHERE queue = $1 ORDER BY seq LIMIT $2', [
      queue,
      limit,
    ]);
    return res.rows.map(toDeadLetter);
  }
  async get(queue: string, id: string): Promise<DeadLetter | undefined> {
    await this.init();
    const res = await this.db.query<Row>('SELECT * FROM dead_letters WHERE queue = $1 AND id = $2', [queue, id]);
    return res.rows[0] && toDeadLetter(res.rows[0]);
  }
  async remove(queue: string, id: string): Promise<boolean> {
    await this.init();
    const res = await this.db.query('DELETE FROM dead_letters WHERE queue = $1 AND id = $2', [queue, id]);
    return res.rowCount > 0;
  }
  async depths(): Promise<Map<string, number>> {
    await this.init();
    const res = await this.db.query<{ queue: string; n: number }>(
      'SELECT queue, count(*)::int AS n FROM dead_letters GROUP BY queue ORDER BY queue',
    );
    return new Map(res.rows.map((r) => [r.queue, Number(r.n)]));
  }
}
