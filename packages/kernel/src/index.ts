export * from './bus/port.js';
export * from './config.js';
export * from './db/migrate.js';
export * from './db/open.js';
export * from './db/pg.js';
export * from './db/pglite.js';
export * from './db/port.js';
export * from './log.js';
