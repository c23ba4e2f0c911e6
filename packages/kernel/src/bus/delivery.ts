/**
 * The one delivery loop of both bus adapters (docs/messaging.md "Consuming, retries and dead letters"): read the
 * envelope, run the handler, retry with backoff, dead-letter with the reason. The adapters supply only what differs:
 * where per-order order is kept, and what "acknowledge", "dead-letter" and "give back" mean to them.
 *
 * How attempts are counted, the one rule:
 * - attempt n = 1 + the earlier deliveries the broker counted (RabbitMQ's `x-delivery-count`; always 0 in process)
 *   + the failed tries here; the handler sees n as `Delivery.attempt`.
 * - A try that fails because the database is unavailable (`isDatabaseUnavailable`) is not the message's fault: it
 *   is retried after a pause without counting.
 * - Every delivery tries the handler at least once. After a failed attempt n ≥ maxAttempts the message is
 *   dead-lettered with attempts = n (`x-attempts`): maxAttempts for a message nobody redelivered.
 * - A message that cannot be read is dead-lettered at once, its one attempt counted the same way (1 + earlier
 *   deliveries).
 */
import { type Envelope, InvalidMessageError, parseEnvelope } from '@commerce/contracts';
import { consumerDeliveriesTotal, runDelivery } from '../businessMetrics.js';
import { isDatabaseUnavailable } from '../db/port.js';
import type { Logger } from '../log.js';
import { endSpan, parentOf, runInSpan, startSpan } from '../tracing.js';
import type { SubscriptionSpec } from './port.js';
import { backoffDelay, errorMessage, outageDelay, sleep } from './retry.js';

/** A message as a consumer received it, not yet read. */
export interface Received {
  body: Buffer | string;
  messageId?: string;
  traceparent?: string;
  /** Deliveries of this message before this one that the broker counted (RabbitMQ `x-delivery-count`); 0 in process. */
  earlierDeliveries: number;
  /** The broker's own flag: it handed this message out before (a consumer or its channel went away unacked). */
  redelivered?: boolean;
}

/** What each adapter does at the ends of a delivery. */
export interface DeliveryEnds {
  /** The queue the handler is told it consumes (a partition queue on a partitioned subscription). */
  queueOf(envelope: Envelope): string;
  /** Runs `work` where the adapter keeps per-order order (its per-order chain, a slot of its prefetch). */
  inOrder(envelope: Envelope, work: () => Promise<void>): Promise<void>;
  /** Asked before the first try and after every pause: false once the message may no longer be held. */
  mayHold(): boolean;
  /** Gives the unfinished message back (when `mayHold` said no); in process it rejects, failing the publish. */
  giveBack(): void | Promise<void>;
  /** The handler succeeded. */
  handled(): void;
  /** Keeps the message with why it failed and the attempts made (see the rule above). */
  deadLetter(reason: string, attempts: number): Promise<void>;
}

export interface RetryDefaults {
  maxAttempts: number;
  backoffMs: number;
}

/** A subscription's delivery loop: its handler with the attempts and backoff it asked for (or the bus's defaults). */
export class DeliveryLoop {
  readonly maxAttempts: number;
  readonly backoffMs: number;

  constructor(
    private readonly spec: SubscriptionSpec,
    defaults: RetryDefaults,
    private readonly log: Logger,
  ) {
    this.maxAttempts = spec.maxAttempts ?? defaults.maxAttempts;
    this.backoffMs = spec.backoffMs ?? defaults.backoffMs;
  }

  /** Resolves once the message is handled, dead-lettered or given back; rejects only as `ends` do. */
  deliver(received: Received, ends: DeliveryEnds): Promise<void> {
    const firstAttempt = received.earlierDeliveries + 1;
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(received.body);
    } catch (err) {
      const reason = err instanceof InvalidMessageError ? err.message : `unreadable message: ${errorMessage(err)}`;
      this.log.warn({ queue: this.spec.queue, messageId: received.messageId, reason }, 'invalid message dead-lettered');
      consumerDeliveriesTotal.inc({ queue: this.spec.queue, outcome: 'dead_lettered' });
      return ends.deadLetter(reason, firstAttempt);
    }
    const queue = ends.queueOf(envelope);
    return ends.inOrder(envelope, async () => {
      // The whole handling (retries, dead-lettering) continues the message's trace (tracing.ts).
      const span = startSpan(`consume ${queue}`, {
        parent: parentOf(received.traceparent),
        kind: 'consumer',
        attributes: { 'messaging.destination': queue, 'messaging.message.id': envelope.eventId },
      });
      let failure: unknown;
      try {
        failure = await runInSpan(span, () =>
          this.attempts(envelope, queue, received.traceparent, firstAttempt, received.redelivered === true, ends),
        );
      } catch (err) {
        failure = err;
        throw err;
      } finally {
        endSpan(span, failure);
      }
    });
  }

  /** Tries until handled, dead-lettered or given back; returns the error that ended it, if any. */
  private async attempts(
    envelope: Envelope,
    queue: string,
    traceparent: string | undefined,
    firstAttempt: number,
    redelivered: boolean,
    ends: DeliveryEnds,
  ): Promise<string | undefined> {
    const about = { queue, messageId: envelope.eventId };
    let attempt = firstAttempt;
    let outages = 0;
    for (;;) {
      if (!ends.mayHold()) {
        await ends.giveBack();
        return 'given back unfinished';
      }
      try {
        const run = runDelivery(() =>
          this.spec.handler({ envelope, attempt, queue, traceparent, redelivered: redelivered || attempt > 1 }),
        );
        await run.result;
        ends.handled();
        consumerDeliveriesTotal.inc({ queue: this.spec.queue, outcome: run.wasDuplicate() ? 'duplicate' : 'handled' });
        this.log.debug(
          { ...about, eventType: envelope.eventType, orderId: envelope.orderId, attempt },
          'message handled',
        );
        return undefined;
      } catch (err) {
        const error = errorMessage(err);
        if (isDatabaseUnavailable(err)) {
          outages++;
          this.log.warn(
            { ...about, outages, err: error },
            'dependency unavailable; retrying without counting an attempt',
          );
          await sleep(outageDelay(outages, this.backoffMs));
          continue;
        }
        const last = attempt >= this.maxAttempts;
        this.log.warn(
          { ...about, attempt, err: error },
          last ? 'handler failed; dead-lettering' : 'handler failed; retrying',
        );
        if (last) {
          await ends.deadLetter(error, attempt);
          consumerDeliveriesTotal.inc({ queue: this.spec.queue, outcome: 'dead_lettered' });
          return error;
        }
        consumerDeliveriesTotal.inc({ queue: this.spec.queue, outcome: 'retried' });
        await sleep(backoffDelay(attempt, this.backoffMs));
        attempt++;
      }
    }
  }
}
