/**
 * What the suites need from the machine beyond Node: the three servers, the two RabbitMQ plugins the tests and the
 * platform use, a Chromium for the console's browser test, and terraform with a provider mirror (terraform validate). Each piece says how to provide it, so that a skipped
 * or failed suite names what to install or enable (.ci/run does all of it).
 */
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { PARTITION_EXCHANGE, requireExchangeTypes } from '@commerce/kernel';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const AMQP_BASE = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
export const RABBIT_API = process.env.TEST_RABBIT_API ?? 'http://guest:guest@127.0.0.1:15672/api';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const TERRAFORM_PATH = process.env.TERRAFORM_PATH ?? '/usr/local/bin/terraform';
export const PROMTOOL_PATH = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';
/** A local provider mirror holding hashicorp/aws (deploy/terraform/validate-offline.sh validates against it). */
export const TF_PLUGIN_DIR = process.env.TF_PLUGIN_DIR ?? '/opt/tf-plugins';

/** Where the run's global setup leaves its probe (JSON Piece[]) for the forks. */
export const MISSING_ENV = 'COMMERCE_TEST_MISSING';

/** What a suite can ask for in describeWith. */
export type ServiceKind = 'postgres' | 'rabbitmq' | 'redis' | 'chromium' | 'terraform' | 'promtool';

export interface Piece {
  /** The group of suites that need it. */
  kind: ServiceKind;
  what: string;
  /** The command (or setting) that provides it. */
  provide: string;
}

const PIECES = {
  postgres: {
    kind: 'postgres',
    what: `PostgreSQL at ${new URL(PG_ADMIN_URL).host}`,
    provide: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, or set TEST_PG_URL',
  },
  redis: {
    kind: 'redis',
    what: `Redis at ${new URL(REDIS_URL).host}`,
    provide:
      'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no, or set TEST_REDIS_URL',
  },
  rabbitmq: {
    kind: 'rabbitmq',
    what: `RabbitMQ at ${new URL(AMQP_BASE).host}`,
    provide: 'rabbitmq-server -detached, or set TEST_AMQP_URL',
  },
  management: {
    kind: 'rabbitmq',
    what: 'the RabbitMQ management plugin (the tests make their vhosts through its API)',
    provide: 'rabbitmq-plugins enable rabbitmq_management',
  },
  consistentHash: {
    kind: 'rabbitmq',
    what: `the RabbitMQ consistent-hash exchange plugin (the order saga's partitions)`,
    provide: `rabbitmq-plugins enable ${PARTITION_EXCHANGE.plugin}`,
  },
  chromium: {
    kind: 'chromium',
    what: `Chromium at ${CHROMIUM_PATH} (the console's browser test)`,
    provide: 'apt-get install chromium, or set CHROMIUM_PATH',
  },
  terraform: {
    kind: 'terraform',
    what: `terraform at ${TERRAFORM_PATH} and a provider mirror with hashicorp/aws at ${TF_PLUGIN_DIR} (terraform validate)`,
    provide:
      'install terraform (or set TERRAFORM_PATH), and `terraform providers mirror DIR` in deploy/terraform/examples/aws where the registry is reachable (set TF_PLUGIN_DIR=DIR)',
  },
  promtool: {
    kind: 'promtool',
    what: `promtool at ${PROMTOOL_PATH} (checks and unit-tests the Prometheus alert rules)`,
    provide: 'apt-get install prometheus (only its promtool is used), or set PROMTOOL_PATH',
  },
} as const satisfies Record<string, Piece>;

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = createConnection({ host: u.hostname, port: Number(u.port || defaultPort), timeout: 1000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function managementAnswers(): Promise<boolean> {
  const u = new URL(`${RABBIT_API}/overview`);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  u.username = '';
  u.password = '';
  try {
    const res = await fetch(u, { headers: { authorization: auth }, signal: AbortSignal.timeout(3000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function consistentHashKnown(): Promise<boolean> {
  try {
    await requireExchangeTypes(AMQP_BASE, [PARTITION_EXCHANGE]);
    return true;
  } catch {
    return false;
  }
}

/** Every piece this machine lacks, probed once. */
export async function missingPieces(): Promise<Piece[]> {
  const missing: Piece[] = [];
  const [pg, redis, rabbit] = await Promise.all([
    reachable(PG_ADMIN_URL, 5432),
    reachable(REDIS_URL, 6379),
    reachable(AMQP_BASE, 5672),
  ]);
  if (!pg) missing.push(PIECES.postgres);
  if (!redis) missing.push(PIECES.redis);
  if (!rabbit) missing.push(PIECES.rabbitmq);
  else {
    const [management, hash] = await Promise.all([managementAnswers(), consistentHashKnown()]);
    if (!management) missing.push(PIECES.management);
    if (!hash) missing.push(PIECES.consistentHash);
  }
  if (!existsSync(CHROMIUM_PATH)) missing.push(PIECES.chromium);
  if (!existsSync(TERRAFORM_PATH) || !existsSync(join(TF_PLUGIN_DIR, 'registry.terraform.io/hashicorp/aws')))
    missing.push(PIECES.terraform);
  if (!existsSync(PROMTOOL_PATH)) missing.push(PIECES.promtool);
  return missing;
}

/** One line per missing piece: what it is, which suites it stops, and the command that provides it. */
export function describeMissing(piece: Piece, required: boolean): string {
  const verb = required ? 'REQUIRE_SERVICES=1 but' : 'skipping the suites that need';
  return `${verb} ${piece.kind}: missing ${piece.what} — provide it with: ${piece.provide}`;
}
