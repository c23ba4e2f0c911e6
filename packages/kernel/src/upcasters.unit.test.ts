import { describe, expect, it } from 'vitest';
import type { StoredEvent } from './eventStore.js';
import { UnknownSchemaVersionError, UpcasterRegistry } from './upcasters.js';

const stored = (eventType: string, data: unknown, schemaVersion?: number): StoredEvent => ({
  globalPosition: 1,
  txId: '1',
  streamId: 's',
  version: 1,
  eventId: '00000000-0000-4000-8000-000000000001',
  eventType,
  data,
  metadata: { causationId: null, ...(schemaVersion === undefined ? {} : { schemaVersion }) },
  occurredAt: '2026-01-01T00:00:00.000Z',
  recordedAt: '2026-01-01T00:00:00.000Z',
});

describe('UpcasterRegistry', () => {
  const registry = new UpcasterRegistry()
    .register('RENAMED', 1, (d) => ({ name: (d as { title: string }).title }))
    .register('RENAMED', 2, (d) => ({ ...(d as object), tags: [] }));

  it('reads an old version through every step to the current one', () => {
    const e = registry.upcast(stored('RENAMED', { title: 'a' }));
    expect(e.data).toEqual({ name: 'a', tags: [] });
    expect(e.metadata.schemaVersion).toBe(3);
    expect(registry.upcast(stored('RENAMED', { name: 'b' }, 2)).data).toEqual({ name: 'b', tags: [] });
  });

  it('leaves current events and types without upcasters as they are', () => {
    const current = stored('RENAMED', { name: 'c', tags: ['x'] }, 3);
    expect(registry.upcast(current)).toBe(current);
    const plain = stored('OTHER', { x: 1 });
    expect(registry.upcast(plain)).toBe(plain);
    expect(registry.currentVersion('OTHER')).toBe(1);
  });

  it('refuses a version newer than it knows, naming it', () => {
    expect(() => registry.upcast(stored('RENAMED', {}, 4))).toThrow(UnknownSchemaVersionError);
    expect(() => registry.upcast(stored('OTHER', {}, 2))).toThrow(
      'schemaVersion 2 of OTHER is newer than this reader knows (1)',
    );
  });

  it('refuses a step registered twice', () => {
    expect(() => new UpcasterRegistry().register('A', 1, (d) => d).register('A', 1, (d) => d)).toThrow(/twice/);
  });
});
