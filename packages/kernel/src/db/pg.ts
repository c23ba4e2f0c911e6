import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../log.js';
import { BatchQuery, type BatchResult, type BatchStatement } from './pgBatch.js';
import {
  allInOrder,
  type Database,
  isDatabaseUnavailable,
  isRetryableTxError,
  PG,
  pgErrorCode,
  type QueryResult,
  type Transaction,
} from './port.js';

// int8 (counts, sequence ids, money sums) as JS numbers: every value we store stays below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export interface PgOptions {
  url: string;
  poolSize?: number;
  statementTimeoutMs?: number;
  log?: Logger;
  /** Name shown in pg_stat_activity, so that an operator (or a fault test) can find this service's connections. */
  applicationName?: string;
}

/** Creates the database named in the URL when it does not exist (SPEC §3). Safe against a concurrent creator. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) throw new Error(`database URL ${redactUrl(url)} names no database`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  // A client without an 'error' listener crashes the process when the server ends its session between two of its
  // queries (pg_terminate_backend, a restart, idle_session_timeout): node-postgres emits the error on the client even
  // when a query also receives it. The queries then reject with "not queryable"; the server's reason is what is
  // thrown instead.
  let lost: Error | undefined;
  client.on('error', (err) => {
    lost ??= err;
  });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return;
    // Identifiers cannot be parameters; quote it with the server's own quote_ident.
    const quoted = await client.query<{ q: string }>('SELECT quote_ident($1) AS q', [name]);
    try {
      await client.query(`CREATE DATABASE ${quoted.rows[0]?.q}`); // sql-identifier-ok: quote_ident($1) above
    } catch (err) {
      const code = pgErrorCode(err);
      if (code !== PG.duplicateDatabase && code !== PG.uniqueViolation) throw err;
    }
  } catch (err) {
    throw lost ?? err;
  } finally {
    await client.end().catch(() => {});
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

/**
 * Sends a transaction's statements in batches: all those issued in one tick (BEGIN with the first statement, the
 * writes of a Promise.all, the final writes with their COMMIT) leave as one BatchQuery: one write, one Sync, one
 * answer. On this kind of machine a socket write and the wake-up it causes cost more than building the statement.
 */
function batchedSender(
  client: pg.PoolClient,
  sent: () => void,
): (sql: string, params?: readonly unknown[]) => Promise<BatchResult> {
  let pending: BatchStatement[] | undefined;
  return (sql, params) =>
    new Promise<BatchResult>((resolve, reject) => {
      const statement: BatchStatement = params
        ? { text: sql, name: statementName(sql), values: params as unknown[], resolve, reject }
        : { text: sql, resolve, reject };
      if (pending) {
        pending.push(statement);
        return;
      }
      const batch = [statement];
      pending = batch;
      process.nextTick(() => {
        pending = undefined;
        sent();
        client.query(new BatchQuery(batch) as unknown as pg.QueryConfig);
      });
    });
}

const statementNames = new Map<string, string>();
/** One prepared statement per SQL text and connection: PostgreSQL parses and plans it once, not at every call. */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `s${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
}

export class PgDatabase implements Database {
  readonly kind = 'pg' as const;
  readonly pool: pg.Pool;
  private listenClient: pg.Client | undefined;
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private trips = 0;

  constructor(private readonly opts: PgOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 8,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: opts.statementTimeoutMs ?? 10_000,
      application_name: opts.applicationName ?? 'commerce',
    });
    // An idle client that loses its server must not crash the process: the pool drops it and makes a new one.
    this.pool.on('error', (err) => opts.log?.warn({ err: err.message }, 'idle database connection lost'));
  }

  /** Batches of statements sent (each one write and one answer: a round trip) since this pool opened. */
  get roundTrips(): number {
    return this.trips;
  }

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    this.trips++;
    const res = await this.pool.query(
      params ? { name: statementName(sql), text: sql, values: params as unknown[] } : sql,
    );
    return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let broken = false;
      // A checked-out client has no pool listener: a server-side termination (pg_terminate_backend, restart)
      // arriving between queries would be an unhandled 'error' event and kill the process.
      const onError = (err: Error) => {
        broken = true;
        this.opts.log?.warn({ err: err.message }, 'database connection lost inside a transaction');
      };
      const client = await this.checkOut(onError);
      const send = batchedSender(client, () => {
        this.trips++;
      });
      try {
        // BEGIN goes out with the transaction's first statement (one batch): one round trip fewer. Should it fail,
        // the statements behind it are not executed; its own error is awaited below.
        const begin = send('BEGIN');
        begin.catch(() => {});
        let commit: Promise<BatchResult> | undefined;
        const tx: Transaction = {
          query: async <R>(sql: string, params?: readonly unknown[]) => {
            if (commit) throw new Error('a statement after Transaction.final(): the transaction is already committing');
            const res = await send(sql, params);
            return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 };
          },
          final: async (statements) => {
            if (commit) throw new Error('Transaction.final() called twice');
            // In the same tick as the statements: the same batch. Behind a failed statement of the batch it is not
            // executed; behind a failure in an earlier batch PostgreSQL answers it with ROLLBACK (no error), so
            // the outcome is read from its command tag.
            const sent = send('COMMIT');
            commit = sent;
            sent.catch(() => {});
            const results = await allInOrder(statements);
            const done = await sent;
            if (done.command !== 'COMMIT') throw new Error(`transaction not committed (${done.command})`);
            return results;
          },
        };
        const result = await fn(tx);
        await begin;
        if (commit) await commit;
        else await send('COMMIT');
        return result;
      } catch (err) {
        broken = broken || isDatabaseUnavailable(err);
        // Through the same sender: a batch still waiting for its tick (BEGIN, when fn failed at once) goes first.
        if (!broken) await send('ROLLBACK').catch(() => {});
        if (isRetryableTxError(err) && attempt < 5) continue;
        throw err;
      } finally {
        // A broken client is destroyed by the pool and may still report its error: keep listening to it.
        if (!broken) client.off('error', onError);
        client.release(broken);
      }
    }
  }

  /**
   * pool.connect() with the caller's 'error' listener attached in the pool's own callback. Through the promise form
   * it would be attached a microtask later: a new connection's ReadyForQuery and a termination read in the same
   * socket chunk (a loaded machine, pg_terminate_backend right after connect) would emit 'error' in between, with
   * no listener at all, and kill the process.
   */
  private checkOut(onError: (err: Error) => void): Promise<pg.PoolClient> {
    return new Promise((resolve, reject) => {
      this.pool.connect((err, client) => {
        if (err || !client) return reject(err ?? new Error('the pool handed out no connection'));
        client.on('error', onError);
        resolve(client);
      });
    });
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      if (this.listenClient) await this.listenClient.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      else await this.connectListener();
    }
    set.add(onNotify);
    return async () => {
      set.delete(onNotify);
    };
  }

  private async connectListener(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.opts.url, connectionTimeoutMillis: 5000 });
    const retry = () => {
      if (this.closed || this.reconnectTimer) return;
      this.listenClient = undefined;
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        this.connectListener().catch(() => retry());
      }, 1000);
      this.reconnectTimer.unref();
    };
    client.on('error', (err) => {
      this.opts.log?.warn({ err: err.message }, 'LISTEN connection lost; reconnecting');
      client.end().catch(() => {});
      retry();
    });
    client.on('notification', (n) => {
      for (const cb of this.listeners.get(n.channel) ?? []) cb(n.payload ?? '');
    });
    try {
      await client.connect();
      for (const channel of this.listeners.keys()) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      this.listenClient = client;
      // Notifications sent while we were away are lost: wake every listener once so it polls.
      for (const set of this.listeners.values()) for (const cb of set) cb('');
    } catch (err) {
      client.end().catch(() => {});
      retry();
      if (!this.listenClient) this.opts.log?.warn({ err: (err as Error).message }, 'LISTEN connect failed; retrying');
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await this.listenClient?.end().catch(() => {});
    await this.pool.end();
  }
}
