import pino from 'pino';
import pretty from 'pino-pretty';
import { traceLogFields } from './tracing.js';

export type Logger = pino.Logger;

/** Paths that may carry a secret: they are censored in every log line. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'jwtSecret',
  '*.jwtSecret',
  'url',
  '*.url',
  // Settings objects: connection strings carry passwords.
  'amqpUrl',
  '*.amqpUrl',
  'redisUrl',
  '*.redisUrl',
  'databaseUrls.*',
  '*.databaseUrls.*',
  'headers.cookie',
  'req.headers["x-api-key"]',
];

/**
 * A pino logger. JSON lines by default (production: CloudWatch, Loki), the level as its label (`"level":"info"`)
 * so that log stores filter on it; `pretty` (a terminal) prints readable lines through pino-pretty instead, written
 * synchronously so that they keep their order with what the process prints itself (the start-up summary).
 */
export function createLogger(
  opts: { level?: string; name?: string; destination?: pino.DestinationStream; pretty?: boolean } = {},
): Logger {
  const destination = opts.pretty
    ? pretty({
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        ...(opts.destination ? { destination: opts.destination as never } : {}),
      })
    : opts.destination;
  return pino(
    {
      level: opts.level ?? 'info',
      name: opts.name,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      formatters: { level: (label) => ({ level: label }) },
      // trace_id/span_id of the operation the line belongs to (tracing.ts).
      mixin: traceLogFields,
    },
    destination,
  );
}

/** Readable log lines when the output is a terminal, unless LOG_FORMAT says otherwise (`json`, `pretty`). */
export function prettyLogsFor(o: { isTTY: boolean | undefined; format?: string }): boolean {
  if (o.format === 'json') return false;
  if (o.format === 'pretty') return true;
  return o.isTTY === true;
}
