/**
 * deploy/compose.yaml and deploy/Dockerfile, checked without a Docker engine: the stack has every process and
 * dependency, everything has a health check, start order waits for health, the image runs as a non-root user
 * with a health check, and — the check that matters most — each service's environment, as compose would
 * hand it over, passes the kernel's own loadSettings for a distributed start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSettings, type ServiceName } from '@commerce/kernel';
import { describe, expect, it } from 'vitest';
import { type ComposeService, containerEnv, DEPLOY, loadCompose, parseEnvFile, ROOT } from './composeEnv.js';

const compose = loadCompose();
const INFRA = ['postgres', 'rabbitmq', 'redis'];
const APPS: Record<string, ServiceName> = {
  order: 'order',
  inventory: 'inventory',
  payment: 'payment',
  'order-worker-1': 'order',
  'order-worker-2': 'order',
};
const commandOf = (s: ComposeService) => (Array.isArray(s.command) ? s.command : String(s.command ?? '').split(' '));

describe('deploy/compose.yaml', () => {
  it('has PostgreSQL, RabbitMQ, Redis, the three services and two more order instances', () => {
    // Without a profile (the observability profile's services: observability.unit.test.ts).
    const started = Object.entries(compose.services).filter(([, s]) => !s.profiles?.length);
    expect(started.map(([name]) => name).sort()).toEqual(
      [...INFRA, 'order', 'inventory', 'payment', 'order-worker-1', 'order-worker-2'].sort(),
    );
    expect(compose.services.postgres?.image).toMatch(/^postgres:15/);
    expect(compose.services.rabbitmq?.image).toMatch(/^rabbitmq:3\.[0-9.]+-management/);
    expect(compose.services.redis?.image).toMatch(/^redis:/);
  });

  it('gives every container a health check', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.healthcheck?.disable, name).not.toBe(true);
      expect(svc.healthcheck?.test, `${name} has no healthcheck.test`).toEqual(
        expect.arrayContaining([expect.any(String)]),
      );
    }
    for (const [name, service] of Object.entries(APPS)) {
      expect(compose.services[name]?.healthcheck?.test, name).toEqual([
        'CMD',
        'node',
        '/app/deploy/healthcheck.mjs',
        service,
      ]);
    }
  });

  it('starts every service only after its dependencies are healthy', () => {
    for (const name of Object.keys(APPS)) {
      const deps = compose.services[name]?.depends_on;
      expect(Array.isArray(deps), `${name}: depends_on must be the long form with conditions`).toBe(false);
      for (const infra of INFRA)
        expect((deps as Record<string, { condition?: string }>)[infra]?.condition, `${name} → ${infra}`).toBe(
          'service_healthy',
        );
    }
    for (const worker of ['order-worker-1', 'order-worker-2']) {
      const deps = compose.services[worker]?.depends_on as Record<string, { condition?: string }>;
      expect(deps.order?.condition).toBe('service_healthy');
    }
  });

  it('runs the order workers as more instances of the same image and command, with no published port', () => {
    const order = compose.services.order as ComposeService;
    for (const worker of ['order-worker-1', 'order-worker-2']) {
      const svc = compose.services[worker] as ComposeService;
      expect(svc.image).toBe(order.image);
      expect(commandOf(svc)).toEqual(['order']);
      expect(svc.ports ?? []).toEqual([]);
      expect(containerEnv(compose, worker)).toEqual(containerEnv(compose, 'order'));
    }
    for (const name of Object.keys(APPS)) expect(compose.services[name]?.image, name).toBe(order.image);
  });

  it('gives each service the settings a distributed start needs (kernel loadSettings accepts them)', () => {
    for (const [name, service] of Object.entries(APPS)) {
      const env = containerEnv(compose, name);
      expect(commandOf(compose.services[name] as ComposeService), name).toEqual([service]);
      const settings = loadSettings(env, [service]);
      expect(settings.mode, name).toBe('distributed');
      expect(settings.host, name).toBe('0.0.0.0');
      expect(settings.databaseUrls[service], name).toMatch(/^postgres(ql)?:\/\//);
      expect(settings.amqpUrl, name).toMatch(/^amqps?:\/\//);
      expect(settings.redisUrl, name).toMatch(/^rediss?:\/\//);
      expect(settings.jwtSecret ?? settings.jwtJwksUrl, `${name}: JWT_SECRET or JWT_JWKS_URL`).toMatch(
        /\S{32,}|^https?:\/\//,
      );
      expect(settings.authDisabled, name).toBe(false);
      // A service gets only its own database's URL.
      for (const other of ['order', 'inventory', 'payment'].filter((s) => s !== service))
        expect(env[`${other.toUpperCase()}_DATABASE_URL`], `${name} sees ${other}'s database`).toBeUndefined();
    }
  });

  it('points the services at the stack: databases the init script creates, the broker vhost, Redis', () => {
    const init = readFileSync(join(DEPLOY, 'postgres-init/01-databases.sql'), 'utf8');
    const created = [...init.matchAll(/^CREATE DATABASE (\w+);/gm)].map((m) => m[1]);
    const pg = containerEnv(compose, 'postgres');
    const rabbit = containerEnv(compose, 'rabbitmq');
    for (const [name, service] of Object.entries(APPS)) {
      const env = containerEnv(compose, name);
      const db = new URL(env[`${service.toUpperCase()}_DATABASE_URL`] as string);
      expect(db.hostname).toBe('postgres');
      expect(created).toContain(db.pathname.slice(1));
      expect(decodeURIComponent(db.username)).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(db.password)).toBe(pg.POSTGRES_PASSWORD);
      const amqp = new URL(env.AMQP_URL as string);
      expect(amqp.hostname).toBe('rabbitmq');
      expect(decodeURIComponent(amqp.pathname.slice(1))).toBe(rabbit.RABBITMQ_DEFAULT_VHOST);
      expect(decodeURIComponent(amqp.username)).toBe(rabbit.RABBITMQ_DEFAULT_USER);
      expect(decodeURIComponent(amqp.password)).toBe(rabbit.RABBITMQ_DEFAULT_PASS);
      expect(new URL(env.REDIS_URL as string).hostname).toBe('redis');
      const port = env[`${service.toUpperCase()}_PORT`];
      const published = compose.services[name]?.ports ?? [];
      if (!name.startsWith('order-worker')) expect(published).toEqual([`${port}:${port}`]);
    }
    const initMount = compose.services.postgres?.volumes?.find((v) => v.endsWith(':/docker-entrypoint-initdb.d:ro'));
    expect(initMount).toBe('./postgres-init:/docker-entrypoint-initdb.d:ro');
  });

  it('enables the consistent-hash exchange and management plugins in RabbitMQ', () => {
    const mount = compose.services.rabbitmq?.volumes?.find((v) => v.includes(':/etc/rabbitmq/enabled_plugins'));
    expect(mount).toBeDefined();
    const file = readFileSync(resolve(DEPLOY, (mount as string).split(':')[0] as string), 'utf8');
    const plugins = /^\[(.*)\]\.\s*$/s
      .exec(file.trim())?.[1]
      ?.split(',')
      .map((p) => p.trim());
    expect(plugins).toEqual(expect.arrayContaining(['rabbitmq_consistent_hash_exchange', 'rabbitmq_management']));
  });

  it('takes the JWT secret from an env file whose default is marked as development-only', () => {
    const file = readFileSync(join(DEPLOY, 'dev.env'), 'utf8');
    expect(file).toMatch(/DEVELOPMENT DEFAULTS ONLY/);
    expect(parseEnvFile(join(DEPLOY, 'dev.env')).JWT_SECRET).toMatch(/^dev-only-/);
    // The shell can point the stack at another env file.
    const other = loadCompose({ COMMERCE_ENV_FILE: '/secure/prod.env' });
    expect(other.services.order?.env_file).toEqual(['/secure/prod.env']);
  });
});

describe('deploy/Dockerfile', () => {
  const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
  // Instructions with line continuations joined; comments dropped.
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = instructions.reduce<string[][]>((acc, l) => {
    if (/^FROM\s/i.test(l)) acc.push([l]);
    else acc.at(-1)?.push(l);
    return acc;
  }, []);
  const runtime = stages.at(-1) ?? [];

  it('is multi-stage: builds with dev dependencies, ships production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(instructions.some((l) => /^RUN .*npm ci\b(?!.*--omit=dev)/.test(l))).toBe(true);
    expect(instructions.some((l) => /^RUN .*npm run build/.test(l))).toBe(true);
    expect(instructions.some((l) => /^RUN .*npm ci .*--omit=dev/.test(l))).toBe(true);
    expect(runtime.some((l) => /^RUN .*npm (ci|install)/.test(l))).toBe(false);
    expect(runtime.filter((l) => /^COPY --from=/.test(l)).length).toBeGreaterThanOrEqual(1);
    // Every workspace's package.json reaches the production install, so its symlink and deps exist.
    const workspaces = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] })
      .workspaces;
    const depsStage = stages.find((s) => s.some((l) => /npm ci .*--omit=dev/.test(l))) ?? [];
    for (const ws of workspaces) {
      expect(depsStage, ws).toContain(`COPY ${ws}/package.json ${ws}/`);
      expect(existsSync(join(ROOT, ws, 'package.json')), ws).toBe(true);
    }
  });

  it('runs as a non-root user under tini, with the launcher as entrypoint and the service as command', () => {
    const user = runtime.filter((l) => /^USER\s/i.test(l)).at(-1);
    expect(user).toBeDefined();
    expect(user?.split(/\s+/)[1]).not.toMatch(/^(root|0)(:.*)?$/);
    expect(runtime.find((l) => l.startsWith('ENTRYPOINT'))).toBe(
      'ENTRYPOINT ["/usr/bin/tini", "--", "node", "apps/platform/dist/main.js"]',
    );
    expect(runtime.some((l) => /^RUN .*install .*\btini\b/.test(l))).toBe(true);
    expect(runtime.find((l) => l.startsWith('CMD'))).toMatch(/^CMD \["(all|order|inventory|payment)"\]$/);
    expect(
      runtime.some((l) => /^ENV .*\bHOST=0\.0\.0\.0\b/.test(l)),
      'the image binds 0.0.0.0',
    ).toBe(true);
  });

  it('declares a HEALTHCHECK that probes /health/ready with node', () => {
    const hc = runtime.find((l) => l.startsWith('HEALTHCHECK'));
    expect(hc).toMatch(/CMD \["node", "\/app\/deploy\/healthcheck\.mjs"\]$/);
    expect(runtime.some((l) => /^COPY .*deploy\/healthcheck\.mjs/.test(l))).toBe(true);
    expect(readFileSync(join(DEPLOY, 'healthcheck.mjs'), 'utf8')).toContain('/health/ready');
  });

  it('keeps local state and build output out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['**/node_modules', '**/dist', '**/.data', '.git', 'bench/results']) expect(ignored).toContain(p);
  });
});
