import pino from 'pino';
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

export function createLogger(
  opts: { level?: string; name?: string; destination?: pino.DestinationStream } = {},
): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      name: opts.name,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      // trace_id/span_id of the operation the line belongs to (tracing.ts).
      mixin: traceLogFields,
    },
    opts.destination,
  );
}
