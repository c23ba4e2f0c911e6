/**
 * Entry point: `main.ts all` runs the three services in one process (npm start); `main.ts order|inventory|payment`
 * runs one service alone (distributed deployment, Docker image command).
 */
// First: the OpenTelemetry SDK, before the libraries it instruments load (telemetry.ts).

import {
  ConfigError,
  createLogger,
  ensureEmbeddedSecret,
  loadSettings,
  MissingBrokerPluginError,
  prettyLogsFor,
  SERVICE_NAMES,
  type ServiceName,
  signToken,
} from '@commerce/kernel';
import { startTelemetry } from '@commerce/kernel/telemetry';
import { type Platform, startPlatform } from './platform.js';
import { seedDemoData } from './seed.js';

const USAGE = 'usage: main <all|order|inventory|payment>';

async function main(argv: string[]): Promise<void> {
  const which = argv[0] ?? 'all';
  if (which === '--help' || which === '-h') {
    console.log(USAGE);
    return;
  }
  if (which !== 'all' && !SERVICE_NAMES.includes(which as ServiceName)) {
    console.error(`unknown service ${JSON.stringify(which)}: ${USAGE}`);
    process.exit(2);
  }
  const services: ServiceName[] = which === 'all' ? [...SERVICE_NAMES] : [which as ServiceName];

  let settings: ReturnType<typeof loadSettings>;
  try {
    settings = loadSettings(process.env, services);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const pretty = prettyLogsFor({ isTTY: process.stdout.isTTY, format: settings.logFormat });
  const log = createLogger({ level: settings.logLevel, name: which === 'all' ? 'platform' : which, pretty });
  // Spans go out over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/observability.md); service.name is
  // OTEL_SERVICE_NAME, else the service this process runs ('platform' for all three).
  const telemetry = startTelemetry({ serviceName: which === 'all' ? 'platform' : which });
  const embeddedSecret =
    settings.mode === 'embedded' && !settings.jwtSecret && !settings.jwtJwksUrl
      ? await ensureEmbeddedSecret(settings.dataDir)
      : undefined;

  let platform: Platform;
  try {
    platform = await startPlatform({ settings, services, log, embeddedSecret });
  } catch (err) {
    if (err instanceof MissingBrokerPluginError) {
      // Something the operator must set up, like a bad setting: one line, exit 2, no stack.
      console.error(`start failed: ${err.message}`);
      process.exit(2);
    }
    log.fatal({ err }, 'start failed');
    console.error(`start failed: ${(err as Error).message}`);
    process.exit(1);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'shutting down: no new requests, finishing in-flight work');
    platform
      .stop()
      .then(() => telemetry.shutdown())
      .then(() => {
        log.info('stopped cleanly');
        process.stdout.write('Commerce Platform stopped cleanly\n');
        process.exit(0);
      })
      .catch((err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));

  const secret = settings.jwtSecret ?? embeddedSecret;
  if (settings.mode === 'embedded' && which === 'all') {
    const admin = secret ? await signToken({ secret, sub: 'admin', role: 'admin', ttlSeconds: 86_400 }) : undefined;
    if (admin) await seedDemoData(platform, admin, log);
  }
  printSummary(platform, secret ? await demoTokens(secret) : undefined, pretty);
}

async function demoTokens(secret: string) {
  return {
    admin: await signToken({ secret, sub: 'admin', role: 'admin', ttlSeconds: 86_400 }),
    customer: await signToken({ secret, sub: 'demo-customer', role: 'customer', ttlSeconds: 86_400 }),
  };
}

/** The start-up summary goes to stdout as plain text (not a log line): where everything is, and how to try it. */
function printSummary(platform: Platform, tokens?: { admin: string; customer: string }, framed = false) {
  const s = platform.settings;
  const lines = [
    '',
    s.mode === 'embedded'
      ? `Commerce Platform — embedded default (PGlite under ${s.dataDir}, in-process bus)`
      : 'Commerce Platform — distributed (PostgreSQL, RabbitMQ, Redis)',
  ];
  for (const svc of platform.services) lines.push(`  ${svc.name.padEnd(10)} ${svc.url}   docs ${svc.url}/docs`);
  if (tokens && s.mode === 'embedded') {
    const order = platform.services.find((x) => x.name === 'order')?.url ?? 'http://127.0.0.1:3000';
    lines.push(
      '',
      'Demo tokens (valid 24 h; `npx commerce token` makes more):',
      `  ADMIN_TOKEN=${tokens.admin}`,
      `  CUSTOMER_TOKEN=${tokens.customer}`,
      '',
      'Try:',
      `  curl -s -X POST ${order}/orders -H "Authorization: Bearer $CUSTOMER_TOKEN" -H 'content-type: application/json' \\`,
      `    -d '{"customerId":"demo-customer","currency":"EUR","items":[{"productId":"demo-widget","quantity":2,"unitPrice":1999}]}'`,
    );
  }
  lines.push('');
  // Between readable log lines (a terminal), a rule above and below keeps the summary apart from them.
  const rule = '─'.repeat(72);
  process.stdout.write(`${(framed ? [rule, ...lines, rule] : lines).join('\n')}\n`);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
