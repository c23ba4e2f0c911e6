/// <reference path="./pg-internals.d.ts" />
/**
 * Statements sent together with ONE Sync: node-postgres gives every query its own Sync (and in pipeline mode its
 * own Sync too), and PostgreSQL answers every Sync with ReadyForQuery and a flush of its output: one socket write
 * on the server and, often, one wake-up and read on ours, per statement. A batch is written at once and answered
 * at once. Semantics of one Sync: the statements run in order; when one fails, the server skips the rest up to
 * the Sync (they are rejected here as not executed), and an open transaction stays open and aborted (the caller
 * rolls it back). Named statements are prepared once per connection, as node-postgres does for a named query.
 *
 * It plugs into node-postgres as a "submittable" (the protocol used by pg-cursor): the client hands it the
 * backend's messages until ReadyForQuery.
 */
import type { Connection } from 'pg';
import Result from 'pg/lib/result.js';
import utils from 'pg/lib/utils.js';

export interface BatchStatement {
  text: string;
  /** Prepared-statement name; none for a statement without parameters (BEGIN, COMMIT). */
  name?: string;
  values?: unknown[];
  resolve(r: BatchResult): void;
  reject(err: unknown): void;
}

export interface BatchResult {
  rows: Record<string, unknown>[];
  rowCount: number | null;
  command: string | null;
}

interface ProtocolConnection {
  parsedStatements: Record<string, string>;
  stream: { cork?(): void; uncork?(): void };
  parse(m: { text: string; name: string; types: unknown[] }): void;
  bind(m: { portal: string; statement: string; values: unknown[]; binary: boolean; valueMapper: unknown }): void;
  describe(m: { type: 'P'; name: string }): void;
  execute(m: { portal: string; rows: number }): void;
  sync(): void;
  on(event: 'parseComplete', fn: () => void): void;
  off(event: 'parseComplete', fn: () => void): void;
}

interface PgResult extends BatchResult {
  addFields(fields: unknown[]): void;
  parseRow(fields: unknown[]): Record<string, unknown>;
  addRow(row: Record<string, unknown>): void;
  addCommandComplete(msg: unknown): void;
}

const newResult = () => new (Result as unknown as new () => PgResult)();

export class BatchQuery {
  private readonly results: PgResult[] = [];
  private current: PgResult | undefined;
  private connection: ProtocolConnection | undefined;
  /** Statements whose Parse this batch sent, in order; each ParseComplete confirms the next (named ones are kept). */
  private readonly parsing: BatchStatement[] = [];
  private readonly onParseComplete = () => {
    const s = this.parsing.shift();
    if (s?.name && this.connection) this.connection.parsedStatements[s.name] = s.text;
  };
  private done = false;

  constructor(private readonly statements: readonly BatchStatement[]) {}

  /** Called by the client when it is this batch's turn: writes every statement and one Sync in one write. */
  submit(conn: Connection): Error | null {
    const connection = conn as unknown as ProtocolConnection;
    this.connection = connection;
    const parsed = connection.parsedStatements;
    // Everything that can fail is done before anything is written: a refused batch sends nothing.
    let values: unknown[][];
    try {
      values = this.statements.map((s) => {
        if (s.name && parsed[s.name] !== undefined && parsed[s.name] !== s.text)
          throw new Error(`prepared statement ${s.name} was used for another statement`);
        return (s.values ?? []).map((v) => utils.prepareValue(v));
      });
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
    const sent = new Set<string>();
    connection.on('parseComplete', this.onParseComplete);
    connection.stream.cork?.();
    try {
      this.statements.forEach((s, i) => {
        const name = s.name ?? '';
        if (!name || (parsed[name] === undefined && !sent.has(name))) {
          connection.parse({ text: s.text, name, types: [] });
          if (name) sent.add(name);
          this.parsing.push(s);
        }
        connection.bind({
          portal: '',
          statement: name,
          values: values[i] ?? [],
          binary: false,
          valueMapper: undefined,
        });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      });
      connection.sync();
    } finally {
      connection.stream.uncork?.();
    }
    return null;
  }

  handleRowDescription(msg: { fields: unknown[] }): void {
    this.current = newResult();
    this.current.addFields(msg.fields);
  }

  handleDataRow(msg: { fields: unknown[] }): void {
    const r = this.current ?? newResult();
    this.current = r;
    r.addRow(r.parseRow(msg.fields));
  }

  handleCommandComplete(msg: unknown): void {
    const r = this.current ?? newResult();
    r.addCommandComplete(msg);
    this.results.push(r);
    this.current = undefined;
  }

  handleEmptyQuery(): void {
    this.results.push(this.current ?? newResult());
    this.current = undefined;
  }

  handlePortalSuspended(): void {}

  handleCopyInResponse(): void {}

  handleCopyData(): void {}

  /** A statement failed (the server skips the rest up to the Sync), or the connection died. */
  handleError(err: unknown): void {
    this.finish(err);
  }

  handleReadyForQuery(): void {
    this.finish();
  }

  private finish(err?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.connection?.off('parseComplete', this.onParseComplete);
    const ok = this.results.length;
    this.statements.forEach((s, i) => {
      const r = this.results[i];
      if (r) s.resolve({ rows: r.rows, rowCount: r.rowCount, command: r.command });
      else if (i === ok && err !== undefined) s.reject(err);
      else
        s.reject(
          err === undefined
            ? new Error('the server sent no result for this statement')
            : Object.assign(new Error(`not executed: statement ${ok + 1} of its batch failed first`), { cause: err }),
        );
    });
  }
}
