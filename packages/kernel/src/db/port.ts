/** The database port: the same SQL runs on PostgreSQL (pg) and on PGlite (embedded default). */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /** One parameterized statement. Never build SQL from values: pass them as $1, $2, … */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** Statements' results, in the order given. */
export type Results<T extends readonly unknown[]> = { -readonly [K in keyof T]: Awaited<T[K]> };

/** The statements of one transaction (Database.transaction). */
export interface Transaction extends Queryable {
  /**
   * Declares the statements just issued as the transaction's last: its COMMIT goes out right behind them (on pg in
   * the same write: one round trip for the writes and the commit). Resolves with their results once committed;
   * rejects with the first failure in issue order, and then nothing was committed. Only statements that fail with
   * an error when their effect must not commit belong here (not "no row"). No statement may follow.
   */
  final<T extends readonly unknown[]>(statements: T): Promise<Results<T>>;
}

export interface Database extends Queryable {
  readonly kind: 'pg' | 'pglite';
  /** Runs fn in one transaction; retried on serialization failure or deadlock (the work was rolled back). */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Several statements without parameters (migrations only). */
  exec(sql: string): Promise<void>;
  /** LISTEN on a channel; survives reconnection (pg). Returns the unlisten function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Resolves when the database answers; rejects otherwise (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** PostgreSQL error codes the kernel reacts to. */
export const PG = {
  uniqueViolation: '23505',
  serializationFailure: '40001',
  deadlock: '40P01',
  duplicateDatabase: '42P04',
} as const;

export function pgErrorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export function isRetryableTxError(err: unknown): boolean {
  const code = pgErrorCode(err);
  return code === PG.serializationFailure || code === PG.deadlock;
}

/**
 * True when the database cannot be reached or the connection died (server restarting, unreachable, refusing
 * connections, out of connections), as PostgreSQL and the pg pool report it: nothing about the statement itself.
 * The pg adapter discards such a client; the buses retry such a handler failure without using up an attempt.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  // 57P01-03 admin shutdown / crash / cannot connect now; 08xxx connection exceptions; 53300 too many connections.
  if (/^(57P0[123]|08\d{3}|53300|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH)$/.test(pgErrorCode(err) ?? ''))
    return true;
  const message = err instanceof Error ? err.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|not currently accepting connections|the database system is (starting up|shutting down|in recovery mode)|Client has encountered a connection error|not queryable/i.test(
    message,
  );
}

/**
 * Awaits statements issued together (on pg they leave as one batch: one write, one round trip) and then rejects with
 * the first failure in issue order, not the first to settle: inside a transaction a failing statement aborts it
 * and fails the ones behind it, and the caller wants the cause (say, a unique violation), not "transaction aborted".
 */
export async function allInOrder<T extends readonly unknown[]>(statements: T): Promise<Results<T>> {
  const outcomes = await Promise.allSettled(statements);
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((o) => (o as PromiseFulfilledResult<unknown>).value) as Results<T>;
}
