/**
 * Projection rebuilds run by this process for the admin API (`POST /admin/projections/:name/rebuild`): one at a time
 * per projection, in the background, their progress kept for `GET /admin/projections`. The CLI runs them itself when
 * it has the order database's URL; either way the kernel's rebuildProjection does the work (and resumes a rebuild
 * that was interrupted, whoever ran it).
 */
import {
  type Database,
  type Logger,
  type Projection,
  type RebuildProgress,
  rebuildProjection,
  type SubscriptionStatus,
  subscriptionStatus,
} from '@commerce/kernel';
import { ORDER_PROJECTIONS } from '@commerce/order';

export interface RebuildState {
  progress: RebuildProgress | null;
  running: boolean;
  error: string | null;
  startedAt: string;
}

export interface ProjectionListing {
  name: string;
  tables: readonly string[];
  /** Written by the service with its events (no lag, no checkpoint of its own) rather than by a live subscription. */
  inline: boolean;
  /** The live subscription's checkpoint, lag and state (null: inline, or never started). */
  status: SubscriptionStatus | null;
  rebuild: RebuildState | null;
}

export function projectionNamed(name: string): Projection | undefined {
  return ORDER_PROJECTIONS.find((p) => p.name === name);
}

export const PROJECTION_NAMES = ORDER_PROJECTIONS.map((p) => p.name);

/** Every projection with its subscription's checkpoint, lag and state (none yet: never started). */
export async function listProjections(
  db: Database,
  rebuilds?: ReadonlyMap<string, RebuildState>,
): Promise<ProjectionListing[]> {
  const statuses = await subscriptionStatus(db);
  return ORDER_PROJECTIONS.map((p) => ({
    name: p.name,
    tables: p.tables,
    inline: p.inline === true,
    status: statuses.find((s) => s.name === p.name) ?? null,
    rebuild: rebuilds?.get(p.name) ?? null,
  }));
}

export class ProjectionRebuilds {
  private readonly states = new Map<string, RebuildState>();
  constructor(
    private readonly db: Database,
    private readonly log: Logger,
  ) {}

  get all(): ReadonlyMap<string, RebuildState> {
    return this.states;
  }

  /** Starts a rebuild unless one of that projection is running here; answers its state. */
  start(p: Projection): RebuildState {
    const current = this.states.get(p.name);
    if (current?.running) return current;
    const state: RebuildState = { progress: null, running: true, error: null, startedAt: new Date().toISOString() };
    this.states.set(p.name, state);
    rebuildProjection(this.db, p, { log: this.log, onProgress: (progress) => (state.progress = progress) })
      .catch((err: unknown) => {
        state.error = err instanceof Error ? err.message : String(err);
        this.log.error({ projection: p.name, err: state.error }, 'projection rebuild failed');
      })
      .finally(() => {
        state.running = false;
      });
    return state;
  }
}
