/** Names and routing rules shared by both bus adapters (docs/messaging.md "Topology"). */

export const deadLetterQueueOf = (queue: string) => `${queue}.dlq`;
export const partitionQueueOf = (queue: string, partition: number) => `${queue}.p${partition}`;

/** Dead-letter headers (docs/messaging.md "Retries and dead letters"). */
export const DLQ_HEADERS = {
  error: 'x-error',
  attempts: 'x-attempts',
  exchange: 'x-original-exchange',
  routingKey: 'x-original-routing-key',
  queue: 'x-original-queue',
  at: 'x-dead-lettered-at',
} as const;

/** AMQP topic matching: words separated by dots, `*` is exactly one word, `#` zero or more. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  const p = pattern.split('.');
  const k = routingKey === '' ? [] : routingKey.split('.');
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    const word = p[i];
    if (word === '#') {
      for (let n = j; n <= k.length; n++) if (match(i + 1, n)) return true;
      return false;
    }
    if (j === k.length) return false;
    return (word === '*' || word === k[j]) && match(i + 1, j + 1);
  };
  return match(0, 0);
}

export function validateSpecShape(spec: {
  queue: string;
  bindings: unknown[];
  maxAttempts?: number;
  backoffMs?: number;
  prefetch?: number;
  partitions?: { count: number };
}): void {
  if (!spec.queue || !/^[A-Za-z0-9._-]{1,200}$/.test(spec.queue))
    throw new Error(`subscribe: queue must be 1-200 characters of [A-Za-z0-9._-], got ${JSON.stringify(spec.queue)}`);
  if (!Array.isArray(spec.bindings) || spec.bindings.length === 0)
    throw new Error(`subscribe ${spec.queue}: bindings must name at least one exchange and routing key`);
  if (spec.maxAttempts !== undefined && (!Number.isInteger(spec.maxAttempts) || spec.maxAttempts < 1))
    throw new Error(`subscribe ${spec.queue}: maxAttempts must be an integer >= 1`);
  if (spec.backoffMs !== undefined && !(spec.backoffMs >= 0))
    throw new Error(`subscribe ${spec.queue}: backoffMs must be >= 0`);
  if (spec.prefetch !== undefined && (!Number.isInteger(spec.prefetch) || spec.prefetch < 1))
    throw new Error(`subscribe ${spec.queue}: prefetch must be an integer >= 1`);
  if (spec.partitions && (!Number.isInteger(spec.partitions.count) || spec.partitions.count < 1))
    throw new Error(`subscribe ${spec.queue}: partitions.count must be an integer >= 1`);
}
