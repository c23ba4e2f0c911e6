/**
 * Event versioning on read: each stored event carries the version of its data's shape (`metadata.schemaVersion`,
 * 1 when absent); an upcaster registry turns an older version into the current one step by step, wherever events are
 * read (a decider's load, subscriptions, an API). A version newer than the registry knows fails, naming it: a reader
 * cannot guess the shape of an event a newer writer stored.
 */
import type { StoredEvent } from './eventStore.js';

/** Turns the data of version n into the data of version n + 1. */
export type Upcaster = (data: unknown, event: StoredEvent) => unknown;

export class UnknownSchemaVersionError extends Error {
  override readonly name = 'UnknownSchemaVersionError';
  constructor(
    readonly eventType: string,
    readonly version: number,
    readonly known: number,
  ) {
    super(`schemaVersion ${version} of ${eventType} is newer than this reader knows (${known})`);
  }
}

export function schemaVersionOf(e: Pick<StoredEvent, 'metadata'>): number {
  const v = e.metadata?.schemaVersion;
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : 1;
}

export class UpcasterRegistry {
  private readonly steps = new Map<string, Upcaster>();
  private readonly currents = new Map<string, number>();

  /** Registers the step from `fromVersion` to `fromVersion + 1`; the current version is the highest one reached. */
  register(eventType: string, fromVersion: number, step: Upcaster): this {
    if (!Number.isInteger(fromVersion) || fromVersion < 1)
      throw new TypeError(`upcaster of ${eventType}: fromVersion must be an integer >= 1, got ${fromVersion}`);
    const key = `${eventType}@${fromVersion}`;
    if (this.steps.has(key))
      throw new TypeError(`upcaster of ${eventType} from version ${fromVersion} registered twice`);
    this.steps.set(key, step);
    this.currents.set(eventType, Math.max(this.currentVersion(eventType), fromVersion + 1));
    return this;
  }

  /** The version writers store now (1 for a type without upcasters). */
  currentVersion(eventType: string): number {
    return this.currents.get(eventType) ?? 1;
  }

  /** The event in its current shape (the same object when it already is). */
  upcast<T = unknown>(e: StoredEvent): StoredEvent<T> {
    const current = this.currentVersion(e.eventType);
    let version = schemaVersionOf(e);
    if (version > current) throw new UnknownSchemaVersionError(e.eventType, version, current);
    if (version === current) return e as StoredEvent<T>;
    let data = e.data;
    while (version < current) {
      const step = this.steps.get(`${e.eventType}@${version}`);
      if (!step) throw new Error(`no upcaster of ${e.eventType} from version ${version} to ${version + 1}`);
      data = step(data, e);
      version++;
    }
    return { ...e, data: data as T, metadata: { ...e.metadata, schemaVersion: version } };
  }
}
