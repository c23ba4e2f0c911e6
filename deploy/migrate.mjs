#!/usr/bin/env node
// Migrates one service's database and exits: `node deploy/migrate.mjs order|inventory|payment`, reading that
// service's <SERVICE>_DATABASE_URL. The release runs it as a one-off ECS task of the new task definition (the new
// image) before the services roll (docs/deployment.md, "Releases"). The same migrations run at every start too;
// they take an advisory lock and skip what is applied, so running them here first, twice, or concurrently with a
// starting task is harmless.
import { createLogger, openDatabase } from '@commerce/kernel';

const service = process.argv[2];
const modules = {
  order: async () => (await import('@commerce/order')).orderMigrations,
  inventory: async () => (await import('@commerce/inventory')).inventoryMigrations,
  payment: async () => (await import('@commerce/payment')).paymentMigrations,
};
if (!Object.hasOwn(modules, service ?? '')) {
  console.error(`usage: migrate.mjs order|inventory|payment (got ${JSON.stringify(service ?? null)})`);
  process.exit(2);
}
const setting = `${service.toUpperCase()}_DATABASE_URL`;
const url = process.env[setting];
if (!url) {
  console.error(`${setting} is not set: expected the PostgreSQL URL of the ${service} database`);
  process.exit(2);
}
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'info', name: `migrate-${service}` });
try {
  const db = await openDatabase({ url, name: service, migrations: await modules[service](), poolSize: 1, log });
  await db.close();
  log.info({ service }, 'database migrated');
} catch (err) {
  console.error(`migration of the ${service} database failed: ${err.message}`);
  process.exit(1);
}
