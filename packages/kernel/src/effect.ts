/**
 * One way to commit a change (DESIGN.md "A change leaves as an effect"). A use case loads state through its store,
 * calls its decider, and returns an Effect: plain data saying what must be written. `commitChange` commits it in one
 * transaction with the inbox record of the message that caused it, or not at all. How the statements travel
 * (batched behind one another, the COMMIT in the same write on pg) is the database adapter's business: nothing here
 * or in a use case waits for a write before issuing the next.
 */
import type { OutgoingMessage } from './bus/port.js';
import { noteDuplicateDelivery } from './businessMetrics.js';
import { allInOrder, type Database, PG, pgErrorCode, type Queryable, type Transaction } from './db/port.js';
import { appendToStream, ConcurrencyError, type NewEvent } from './eventStore.js';
import {
  claimIdempotencyKey,
  findIdempotencyKey,
  type IdempotencyKeyClaim,
  IdempotencyKeyTaken,
} from './idempotencyKeys.js';
import { inboxDuplicatesTotal } from './metrics.js';
import { enqueueOutbox, withTraceparent } from './outbox.js';
import { outboxDispatcherOf } from './outboxDispatch.js';
import type { DedupCache } from './service.js';

/**
 * One statement of an effect, built by a store adapter (application code never holds SQL). A statement with a
 * `refusal` is a guarded update: it must touch a row (say "UPDATE … SET balance = balance - $2 WHERE … AND
 * balance >= $2 RETURNING 1"); when it touches none, the whole effect is refused with that reason (EffectRefused)
 * and nothing commits. A guarded statement must end with a RETURNING clause.
 */
export interface Write {
  sql: string;
  params: readonly unknown[];
  refusal?: string;
}

/** Events appended to one stream at the version the decision was taken on. */
export interface StreamAppend {
  streamId: string;
  expectedVersion: number;
  events: readonly NewEvent[];
}

/** The record that a consumer handled a message: a second delivery commits nothing. */
export interface InboxRecord {
  consumer: string;
  messageId: string;
}

/** What one change writes, in one transaction. */
export interface Effect {
  /** An Idempotency-Key used for this request, with the answer a retry gets (JSON). */
  idempotencyKey?: { claim: IdempotencyKeyClaim; answer: unknown; at: Date };
  appends?: readonly StreamAppend[];
  /** Read-model rows, state rows, deadlines, guarded updates: in the order given. */
  writes?: readonly Write[];
  /** Messages published after the commit (outbox). */
  outbox?: readonly OutgoingMessage[];
  /** Called once the effect committed (metrics of what it did; never part of the transaction). */
  committed?: () => void;
}

/** What a decision answers: the effect to commit and the use case's result. */
export interface Decision<R> {
  effect: Effect;
  result: R;
}

/** A change: what caused it, how its state loads (inside the transaction), and the decision. */
export interface Change<S, R> {
  /** The message that caused it (a consumer): a duplicate delivery is recognised and changes nothing. */
  inbox?: InboxRecord;
  /** Reads (and locks) the state the decision needs; omit for a change that needs none (a new stream). */
  load?(reader: Queryable): Promise<S>;
  decide(state: S): Decision<R>;
}

export type Committed<R> =
  | { kind: 'applied'; result: R }
  /** The inbox already held the message: its effect was applied before; nothing now. */
  | { kind: 'duplicate' }
  /** The Idempotency-Key was used before for the same request: its first answer, nothing applied now. */
  | { kind: 'replayed'; answer: unknown }
  /** The Idempotency-Key was used before for another request (HTTP 422): nothing applied. */
  | { kind: 'key-reused' };

/** A guarded write touched no row: nothing of the effect committed. */
export class EffectRefused extends Error {
  override readonly name = 'EffectRefused';
  constructor(readonly refusal: string) {
    super(`effect refused: ${refusal}`);
  }
}

export interface CommitOptions {
  /**
   * Skips obvious duplicates faster than the inbox row (never the record of truth): asked before the transaction
   * for a message that may have been handled (`maybeHandled`), told after every commit.
   */
  dedup?: DedupCache;
  /**
   * A redelivery (Delivery.redelivered): the cache is asked first, and a message it knows costs no transaction. A
   * first delivery goes straight to the inbox row, which catches the rare duplicate (a message published twice)
   * in the same transaction that would apply it: asking the cache there would cost every message a round trip and
   * spare nothing.
   */
  maybeHandled?: boolean;
  /** Times a change is loaded and decided again when its stream moved on meanwhile (default 5). */
  attempts?: number;
}

/** SQLSTATE raised by commerce_guard (schema.ts) when a guarded write touched no row. */
const GUARD_REFUSED = 'CM422';

export function dedupKey(consumer: string, messageId: string): string {
  return `${consumer}:${messageId}`;
}

/**
 * Commits a change in one transaction: the inbox record, the load, the decision's writes and its outbox messages.
 * Another writer appending to the stream first (ConcurrencyError) makes it load and decide again, a few times.
 */
export async function commitChange<S, R>(
  db: Database,
  change: Change<S, R>,
  options: CommitOptions = {},
): Promise<Committed<R>> {
  const attempts = options.attempts ?? 5;
  const { inbox } = change;
  const cacheKey = inbox && options.dedup ? dedupKey(inbox.consumer, inbox.messageId) : undefined;
  /** Counted alike whether the cache or the inbox row recognised it (commerce_inbox_duplicates_total). */
  const duplicate = (): Committed<R> => {
    if (inbox) inboxDuplicatesTotal.inc({ consumer: inbox.consumer });
    noteDuplicateDelivery();
    return { kind: 'duplicate' };
  };
  if (cacheKey && options.maybeHandled && (await options.dedup?.seen(cacheKey).catch(() => false))) return duplicate();
  const dispatcher = outboxDispatcherOf(db);
  for (let attempt = 1; ; attempt++) {
    let effect: Effect | undefined;
    let outbox: OutgoingMessage[] = [];
    try {
      const out = await db.transaction((tx) =>
        runInTransaction(tx, change, { wake: !dispatcher }, (e) => {
          effect = e;
          // Stored and sent alike: with the trace context of this change.
          outbox = e.outbox && e.outbox.length > 0 ? withTraceparent(e.outbox) : [];
          return outbox;
        }),
      );
      // Committed: this process holds the messages, so it publishes them now (the relay is the safety net).
      if (dispatcher && outbox.length > 0) dispatcher.dispatch(outbox);
      if (out.kind === 'applied') effect?.committed?.();
      if (cacheKey) await options.dedup?.remember(cacheKey).catch(() => {});
      return out;
    } catch (err) {
      if (err instanceof DuplicateDelivery) {
        if (cacheKey) await options.dedup?.remember(cacheKey).catch(() => {});
        return duplicate();
      }
      if (err instanceof IdempotencyKeyTaken && effect?.idempotencyKey) {
        const { claim } = effect.idempotencyKey;
        const earlier = await findIdempotencyKey(db, claim.scope, claim.key);
        // Gone since: pruned in between, so the key is new again; decide again.
        if (!earlier && attempt < attempts) continue;
        if (!earlier) throw err;
        return earlier.requestHash === claim.requestHash
          ? { kind: 'replayed', answer: earlier.result }
          : { kind: 'key-reused' };
      }
      if (err instanceof ConcurrencyError && attempt < attempts) continue;
      throw err;
    }
  }
}

/** Commits an effect that needs no state loaded first (a new stream): on pg, BEGIN to COMMIT in one round trip. */
export function commitEffect<R>(
  db: Database,
  decision: Decision<R>,
  options: CommitOptions = {},
): Promise<Committed<R>> {
  return commitChange(db, { decide: () => decision }, options);
}

async function runInTransaction<S, R>(
  tx: Transaction,
  change: Change<S, R>,
  outboxOptions: { wake: boolean },
  decided: (effect: Effect) => OutgoingMessage[],
): Promise<Committed<R>> {
  if (!change.load && !change.inbox) {
    // Nothing to read: the writes go out at once, behind BEGIN and ahead of the COMMIT.
    const decision = change.decide(undefined as S);
    const outbox = decided(decision.effect);
    await tx.final(issueEffect(tx, decision.effect, outbox, outboxOptions));
    return { kind: 'applied', result: decision.result };
  }
  // The inbox row first: a concurrent duplicate waits on its key until the first delivery commits, then fails
  // there. The load is issued right behind it, so it reads what that delivery committed.
  const [, state] = await allInOrder([
    change.inbox ? recordInbox(tx, change.inbox) : undefined,
    change.load ? change.load(tx) : (undefined as S),
  ] as const);
  const decision = change.decide(state);
  const outbox = decided(decision.effect);
  await tx.final(issueEffect(tx, decision.effect, outbox, outboxOptions));
  return { kind: 'applied', result: decision.result };
}

/** Issues every statement of an effect without waiting for any: the database adapter sends them together. */
function issueEffect(
  tx: Queryable,
  effect: Effect,
  outbox: readonly OutgoingMessage[],
  outboxOptions: { wake: boolean },
): Promise<unknown>[] {
  const statements: Promise<unknown>[] = [];
  const key = effect.idempotencyKey;
  // The key first: a request that used it before fails here and nothing behind it applies.
  if (key) statements.push(claimIdempotencyKey(tx, key.claim, key.answer, key.at));
  // Appends next: should another writer have appended meanwhile, its ConcurrencyError is the failure reported.
  for (const a of effect.appends ?? []) statements.push(appendToStream(tx, a.streamId, a.expectedVersion, a.events));
  for (const w of effect.writes ?? []) statements.push(issueWrite(tx, w));
  if (outbox.length > 0) statements.push(enqueueOutbox(tx, outbox, outboxOptions));
  return statements;
}

async function issueWrite(tx: Queryable, w: Write): Promise<unknown> {
  if (w.refusal === undefined) return tx.query(w.sql, w.params);
  // The guard raises inside the statement (an error, not "no row"): the COMMIT may already be on its way behind it.
  // sql-identifier-ok: w.sql is a store adapter's parameterized statement (values travel in w.params), never a value
  const guarded = `WITH guarded AS (${w.sql}) SELECT commerce_guard(count(*)::int, $${w.params.length + 1}) AS touched FROM guarded`;
  try {
    return await tx.query(guarded, [...w.params, w.refusal]);
  } catch (err) {
    if (pgErrorCode(err) === GUARD_REFUSED) throw new EffectRefused(w.refusal);
    throw err;
  }
}

async function recordInbox(tx: Queryable, inbox: InboxRecord): Promise<void> {
  if (!inbox.consumer || !inbox.messageId) throw new TypeError('inbox: consumer and messageId must be non-empty');
  try {
    await tx.query('INSERT INTO inbox (consumer, message_id) VALUES ($1, $2)', [inbox.consumer, inbox.messageId]);
  } catch (err) {
    throw pgErrorCode(err) === PG.uniqueViolation ? new DuplicateDelivery() : err;
  }
}

/** The inbox already holds the message. */
class DuplicateDelivery extends Error {}
