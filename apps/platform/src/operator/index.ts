/**
 * The operator surface: admin routes (dead letters, outbox, projection rebuild, audit) and the operations console
 * (static files, live feed, timeline, partitions, read-only proxy). The composition root mounts it on the order
 * service's HTTP server. It reads the services through their exported queries and the kernel's, never their tables.
 */
import {
  type Database,
  type Logger,
  type MessageBus,
  pickSettings,
  type ServiceName,
  type Settings,
} from '@commerce/kernel';
import type { FastifyInstance } from 'fastify';
import { registerAdminRoutes } from './adminRoutes.js';
import { type ConsolePeer, registerConsoleRoutes } from './consoleRoutes.js';
import { registerWebhookRoutes } from './webhookRoutes.js';

export type { ConsolePeer } from './consoleRoutes.js';

/** The settings the operator surface reads. */
const OPERATOR_SETTINGS = ['sagaTimeoutMs', 'orderPartitions', 'peerUrls', 'reviewTimeoutMs', 'webhooks'] as const;
export type OperatorSettings = Pick<Settings, (typeof OPERATOR_SETTINGS)[number]>;
export const operatorSettingsOf = (settings: Settings): OperatorSettings => pickSettings(settings, OPERATOR_SETTINGS);

export interface OperatorDeps {
  bus: MessageBus;
  /** The databases this process holds, by service; the order one always (the console reads it). */
  dbs: Partial<Record<ServiceName, Database>> & { order: Database };
  log: Logger;
  /** The services running in this process (read at request time: they start after the routes are registered). */
  peers: () => readonly ConsolePeer[];
  settings: OperatorSettings;
  feedIntervalMs?: number;
}

export async function registerOperatorRoutes(app: FastifyInstance, deps: OperatorDeps): Promise<void> {
  await registerAdminRoutes(app, { bus: deps.bus, dbs: deps.dbs, settings: deps.settings, log: deps.log });
  await registerWebhookRoutes(app, { db: deps.dbs.order, settings: deps.settings.webhooks, log: deps.log });
  await registerConsoleRoutes(app, {
    db: deps.dbs.order,
    log: deps.log,
    peers: deps.peers,
    settings: deps.settings,
    feedIntervalMs: deps.feedIntervalMs,
  });
}
