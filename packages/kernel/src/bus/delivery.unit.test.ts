import { describe, expect, it } from 'vitest';
import { confirmed } from '../../test-fixtures/bus/bus.contract.js';
import { createLogger } from '../log.js';
import { type DeliveryEnds, DeliveryLoop } from './delivery.js';
import type { Handler } from './port.js';

const log = createLogger({ level: 'silent' });
const outage = () => Object.assign(new Error('terminating connection'), { code: '57P01' });

/** Runs one delivery through the shared loop with ends that record what the adapter was asked to do. */
async function deliver(
  handler: Handler,
  o: { maxAttempts: number; earlierDeliveries?: number; body?: string; holdFor?: number },
) {
  const seen: number[] = [];
  const done: string[] = [];
  const deadLetters: { reason: string; attempts: number }[] = [];
  let holds = 0;
  const loop = new DeliveryLoop(
    {
      queue: 'q',
      bindings: [{ exchange: 'order_events', routingKey: '#' }],
      handler: async (d) => {
        seen.push(d.attempt);
        await handler(d);
      },
      maxAttempts: o.maxAttempts,
      backoffMs: 0,
    },
    { maxAttempts: 5, backoffMs: 100 },
    log,
  );
  const ends: DeliveryEnds = {
    queueOf: () => 'q',
    inOrder: (_envelope, work) => work(),
    mayHold: () => o.holdFor === undefined || holds++ < o.holdFor,
    giveBack: () => void done.push('given back'),
    handled: () => void done.push('handled'),
    deadLetter: async (reason, attempts) => {
      done.push('dead-lettered');
      deadLetters.push({ reason, attempts });
    },
  };
  await loop.deliver(
    {
      body: o.body ?? JSON.stringify(confirmed().envelope),
      messageId: 'm-1',
      earlierDeliveries: o.earlierDeliveries ?? 0,
    },
    ends,
  );
  return { seen, done, deadLetters };
}

const alwaysFails: Handler = async () => {
  throw new Error('stock service exploded');
};

describe('the delivery loop both buses share: one rule for counting attempts', () => {
  it('calls an always-failing handler exactly maxAttempts times (attempts 1..n), then dead-letters once with attempts = maxAttempts', async () => {
    const r = await deliver(alwaysFails, { maxAttempts: 3 });
    expect(r.seen).toEqual([1, 2, 3]);
    expect(r.done).toEqual(['dead-lettered']);
    expect(r.deadLetters).toEqual([{ reason: 'stock service exploded', attempts: 3 }]);
  });

  it('counts the deliveries the broker counted before: the attempts go on from there to maxAttempts', async () => {
    const r = await deliver(alwaysFails, { maxAttempts: 5, earlierDeliveries: 2 });
    expect(r.seen).toEqual([3, 4, 5]);
    expect(r.deadLetters).toEqual([{ reason: 'stock service exploded', attempts: 5 }]);
  });

  it('still tries a message redelivered more often than maxAttempts once, and dead-letters it with its count', async () => {
    const r = await deliver(alwaysFails, { maxAttempts: 2, earlierDeliveries: 4 });
    expect(r.seen).toEqual([5]);
    expect(r.deadLetters).toEqual([{ reason: 'stock service exploded', attempts: 5 }]);
  });

  it('does not count tries that fail because the database is unavailable', async () => {
    let calls = 0;
    const r = await deliver(
      async () => {
        calls++;
        if (calls <= 3) throw outage();
        throw new Error('still broken');
      },
      { maxAttempts: 2 },
    );
    expect(r.seen).toEqual([1, 1, 1, 1, 2]);
    expect(r.deadLetters).toEqual([{ reason: 'still broken', attempts: 2 }]);
  });

  it('dead-letters an unreadable message at once, without the handler, as one attempt after the earlier deliveries', async () => {
    const fresh = await deliver(alwaysFails, { maxAttempts: 3, body: '{not json' });
    expect(fresh.seen).toEqual([]);
    expect(fresh.deadLetters).toEqual([{ reason: expect.stringMatching(/not valid JSON/), attempts: 1 }]);
    const redelivered = await deliver(alwaysFails, { maxAttempts: 3, body: '{not json', earlierDeliveries: 1 });
    expect(redelivered.deadLetters).toEqual([{ reason: expect.stringMatching(/not valid JSON/), attempts: 2 }]);
  });

  it('acknowledges a handled message once, on the attempt that succeeded', async () => {
    let calls = 0;
    const r = await deliver(
      async () => {
        if (++calls < 2) throw new Error('transient');
      },
      { maxAttempts: 3 },
    );
    expect(r.seen).toEqual([1, 2]);
    expect(r.done).toEqual(['handled']);
    expect(r.deadLetters).toEqual([]);
  });

  it('gives the message back, neither acked nor dead-lettered, once the adapter may no longer hold it', async () => {
    const r = await deliver(alwaysFails, { maxAttempts: 5, holdFor: 2 });
    expect(r.seen).toEqual([1, 2]);
    expect(r.done).toEqual(['given back']);
  });
});
