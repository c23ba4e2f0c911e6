import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, describeWith } from '../../../../test/support/services.js';
import { type BusUnderTest, confirmed, runBusContract } from '../../test-fixtures/bus/bus.contract.js';
import { PgDatabase } from '../db/pg.js';
import { PgliteDatabase } from '../db/pglite.js';
import { createLogger } from '../log.js';
import { DbDeadLetterStore, type DeadLetterStore, MemoryDeadLetterStore } from './deadLetterStore.js';
import { InProcessBus } from './inProcess.js';

const log = createLogger({ level: 'silent' });

function inProcess(store: () => Promise<{ store: DeadLetterStore; close(): Promise<void> }>) {
  return async (): Promise<BusUnderTest> => {
    const s = await store();
    const bus = new InProcessBus({ log, deadLetterStore: s.store });
    await bus.start();
    return {
      bus,
      publishRaw: (exchange, routingKey, body, messageId) => bus.publishRaw(exchange, routingKey, body, messageId),
      dispose: async () => {
        await bus.close();
        await s.close();
      },
    };
  };
}

describe('InProcessBus with MemoryDeadLetterStore', () => {
  runBusContract(inProcess(async () => ({ store: new MemoryDeadLetterStore(), close: async () => {} })));
});

describe('InProcessBus with DbDeadLetterStore on PGlite', () => {
  // One PGlite for the suite (opening one takes seconds); every test uses its own queue names.
  let db: PgliteDatabase | undefined;
  afterAll(() => db?.close());
  runBusContract(
    inProcess(async () => {
      db ??= await PgliteDatabase.open();
      return { store: new DbDeadLetterStore(db), close: async () => {} };
    }),
  );
});

describe('InProcessBus delivery guarantees', () => {
  it('resolves publish only after every bound queue handled or dead-lettered the message', async () => {
    const bus = new InProcessBus({ log });
    const events: string[] = [];
    await bus.subscribe({
      queue: 'slow',
      bindings: [{ exchange: 'order_events', routingKey: '#' }],
      handler: async () => {
        await new Promise((r) => setTimeout(r, 20));
        events.push('slow handled');
      },
    });
    await bus.subscribe({
      queue: 'failing',
      bindings: [{ exchange: 'order_events', routingKey: '#' }],
      maxAttempts: 2,
      backoffMs: 1,
      handler: async () => {
        throw new Error('nope');
      },
    });
    await bus.publish([confirmed()]);
    events.push('publish resolved');
    expect(events).toEqual(['slow handled', 'publish resolved']);
    expect(await bus.deadLetters.list('failing')).toHaveLength(1);
    await bus.close();
    await expect(bus.publish([confirmed()])).rejects.toThrow(/closed/);
  });

  it('rejects publish when a dead letter cannot be stored, so the outbox keeps the row and retries', async () => {
    const unavailable = new MemoryDeadLetterStore();
    unavailable.add = async () => {
      throw new Error('database unavailable');
    };
    const bus = new InProcessBus({ log, deadLetterStore: unavailable });
    await bus.subscribe({
      queue: 'q',
      bindings: [{ exchange: 'order_events', routingKey: '#' }],
      maxAttempts: 1,
      handler: async () => {
        throw new Error('down');
      },
    });
    await expect(bus.publish([confirmed()])).rejects.toThrow(/delivery failed: database unavailable/);
    await bus.close();
  });
});

describeWith(['postgres'], 'InProcessBus with DbDeadLetterStore on PostgreSQL', () => {
  runBusContract(
    inProcess(async () => {
      const t = await createTestDatabase('dlq');
      const db = new PgDatabase({ url: t.url, log });
      return {
        store: new DbDeadLetterStore(db),
        close: async () => {
          await db.close();
          await t.drop();
        },
      };
    }),
  );
});
