/**
 * deploy/terraform, checked without providers: every .tf file parses (HCL 2, hcl2-parser), references resolve
 * (var.X to a declared variable, local.X to a local, module.X to a module block, resource and data references
 * to declared blocks), module calls match the called module's variables, every variable is typed and
 * described, the root example's variables are validated, and the pieces the deployment must have are there.
 * Also `terraform fmt -check` when the terraform binary exists.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TERRAFORM_PATH } from '../support/pieces.js';
import { ROOT } from './composeEnv.js';

const require = createRequire(import.meta.url);
const hcl = require('hcl2-parser') as { parseToObject(input: string): [unknown, unknown] };

const TF_ROOT = join(ROOT, 'deploy/terraform');
const EXAMPLE = join(TF_ROOT, 'examples/aws');
const TERRAFORM = TERRAFORM_PATH;

type Block = Record<string, unknown>;
/** hcl2json shape: { variable: { name: [body] }, resource: { type: { name: [body] } }, locals: [body], ... } */
type Parsed = Record<string, unknown>;

interface TfModule {
  dir: string;
  files: Record<string, Parsed>;
  variables: Record<string, Block>;
  locals: Set<string>;
  modules: Record<string, Block>;
  resources: Set<string>;
  data: Set<string>;
  outputs: Record<string, Block>;
}

function parseFile(path: string): Parsed {
  const [result, error] = hcl.parseToObject(readFileSync(path, 'utf8'));
  if (!result) throw new Error(`${relative(ROOT, path)} does not parse as HCL 2: ${JSON.stringify(error)}`);
  return result as Parsed;
}

function loadModule(dir: string): TfModule {
  const m: TfModule = {
    dir,
    files: {},
    variables: {},
    locals: new Set(),
    modules: {},
    resources: new Set(),
    data: new Set(),
    outputs: {},
  };
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.tf'))) {
    const parsed = parseFile(join(dir, f));
    m.files[f] = parsed;
    const one = (blocks: unknown) =>
      Object.entries((blocks ?? {}) as Record<string, Block[]>).map(([k, v]) => [k, v[0] as Block] as const);
    for (const [k, v] of one(parsed.variable)) m.variables[k] = v;
    for (const [k, v] of one(parsed.module)) m.modules[k] = v;
    for (const [k, v] of one(parsed.output)) m.outputs[k] = v;
    for (const body of (parsed.locals ?? []) as Block[]) for (const k of Object.keys(body)) m.locals.add(k);
    for (const [type, byName] of Object.entries((parsed.resource ?? {}) as Record<string, Block>))
      for (const name of Object.keys(byName)) m.resources.add(`${type}.${name}`);
    for (const [type, byName] of Object.entries((parsed.data ?? {}) as Record<string, Block>))
      for (const name of Object.keys(byName)) m.data.add(`${type}.${name}`);
  }
  return m;
}

/** Every string holding an expression (keys included: `"${upper(x)}_URL" = ...` keys are expressions too). */
function expressions(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.includes('${')) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) expressions(v, out);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('${')) out.push(k);
      expressions(v, out);
    }
  }
  return out;
}

const moduleDirs = [
  ...readdirSync(join(TF_ROOT, 'modules')).map((n) => join(TF_ROOT, 'modules', n)),
  ...readdirSync(join(TF_ROOT, 'examples')).map((n) => join(TF_ROOT, 'examples', n)),
].filter((d) => statSync(d).isDirectory());
const modules = new Map(moduleDirs.map((d) => [d, loadModule(d)]));
const META = new Set(['source', 'version', 'providers', 'count', 'for_each', 'depends_on']);
const example = modules.get(EXAMPLE) as TfModule;
const secondary = modules.get(join(TF_ROOT, 'examples/aws-secondary')) as TfModule;
const mod = (name: string) => modules.get(join(TF_ROOT, 'modules', name)) as TfModule;
/** The single body of `resource "type" "name"` in a module. */
function resource(m: TfModule, type: string, name: string): Block {
  for (const parsed of Object.values(m.files)) {
    const body = ((parsed.resource as Record<string, Record<string, Block[]>> | undefined)?.[type]?.[name] ?? [])[0];
    if (body) return body;
  }
  throw new Error(`${relative(ROOT, m.dir)} has no resource ${type}.${name}`);
}
/** A Terraform interpolation as hcl2json renders an expression: tf('var.x') is the string $ { var.x }. */
const tf = (expression: string) => `$${'{'}${expression}}`;
const allText = (m: TfModule) =>
  Object.keys(m.files)
    .map((f) => readFileSync(join(m.dir, f), 'utf8'))
    .join('\n');

describe('deploy/terraform: structure', () => {
  it('has the modules the deployment needs and an example root wiring them', () => {
    expect(moduleDirs.map((d) => relative(TF_ROOT, d)).sort()).toEqual(
      [
        'examples/aws',
        'examples/aws-secondary',
        'modules/alarms',
        'modules/alb',
        'modules/ecr',
        'modules/ecs-service',
        'modules/elasticache',
        'modules/mq',
        'modules/network',
        'modules/rds',
        'modules/secrets',
      ].sort(),
    );
    const called = new Set(Object.values(example.modules).map((b) => String(b.source)));
    for (const d of moduleDirs.filter((x) => x.includes('/modules/')))
      expect(called, `example does not use ${relative(TF_ROOT, d)}`).toContain(`../../${relative(TF_ROOT, d)}`);
  });

  for (const [dir, m] of modules) {
    const name = relative(TF_ROOT, dir);
    describe(name, () => {
      it('resolves every var., local., module., resource and data reference', () => {
        const problems: string[] = [];
        for (const [file, parsed] of Object.entries(m.files)) {
          for (const expr of expressions(parsed)) {
            for (const [, kind, id] of expr.matchAll(/(?<![\w.])(var|local|module)\.([A-Za-z_][\w-]*)/g)) {
              const ok = kind === 'var' ? id! in m.variables : kind === 'local' ? m.locals.has(id!) : id! in m.modules;
              if (!ok) problems.push(`${file}: ${kind}.${id} is not declared`);
            }
            for (const [, type, id] of expr.matchAll(/(?<![\w.])((?:aws|random)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)/g))
              if (!m.resources.has(`${type}.${id}`)) problems.push(`${file}: resource ${type}.${id} is not declared`);
            for (const [, type, id] of expr.matchAll(/(?<![\w.])data\.([a-z0-9_]+)\.([A-Za-z_][\w-]*)/g))
              if (!m.data.has(`${type}.${id}`)) problems.push(`${file}: data.${type}.${id} is not declared`);
          }
        }
        expect(problems).toEqual([]);
      });

      it('declares every variable with a type and a description, and every output with a description', () => {
        for (const [v, body] of Object.entries(m.variables)) {
          expect(body.type, `variable ${v} has no type`).toBeDefined();
          expect(String(body.description ?? '').length, `variable ${v} has no description`).toBeGreaterThan(10);
        }
        for (const [o, body] of Object.entries(m.outputs))
          expect(String(body.description ?? '').length, `output ${o} has no description`).toBeGreaterThan(10);
      });

      it('calls modules that exist with arguments they declare, providing every required one', () => {
        for (const [callName, call] of Object.entries(m.modules)) {
          const source = resolve(dir, String(call.source));
          expect(existsSync(source), `module ${callName}: ${String(call.source)} does not exist`).toBe(true);
          const target = modules.get(source) ?? loadModule(source);
          expect(Object.keys(target.files).length, `module ${callName}: no .tf files`).toBeGreaterThan(0);
          const args = Object.keys(call).filter((a) => !META.has(a));
          const unknown = args.filter((a) => !(a in target.variables));
          expect(unknown, `module ${callName}: arguments the module does not declare`).toEqual([]);
          const required = Object.entries(target.variables)
            .filter(([, body]) => !('default' in body))
            .map(([v]) => v);
          expect(
            required.filter((r) => !args.includes(r)),
            `module ${callName}: required variables not given`,
          ).toEqual([]);
        }
      });

      it('has a README listing exactly its variables and outputs, generated and current', () => {
        const readme = readFileSync(join(dir, 'README.md'), 'utf8');
        const listed = (kind: 'input' | 'output') =>
          [...readme.matchAll(new RegExp(`<a name="${kind}_([\\w-]+)"></a>`, 'g'))].map((x) => x[1]).sort();
        expect(listed('input')).toEqual(Object.keys(m.variables).sort());
        expect(listed('output')).toEqual(Object.keys(m.outputs).sort());
        for (const [v, body] of Object.entries(m.variables)) {
          const row = readme.split('\n').find((l) => l.includes(`<a name="input_${v}"></a>`)) ?? '';
          expect(row.endsWith(`| ${'default' in body ? 'no' : 'yes'} |`), `${name} README: ${v} required?`).toBe(true);
        }
      });

      it('pins its providers', () => {
        const settingsBlock = (Object.values(m.files).flatMap((p) => (p.terraform ?? []) as Block[]) ?? [])[0];
        expect(settingsBlock, 'no terraform {} block').toBeDefined();
        const providers = ((settingsBlock?.required_providers ?? []) as Block[])[0] ?? {};
        expect(Object.keys(providers)).toContain('aws');
        for (const p of Object.values(providers) as Block[]) expect(p.version).toMatch(/\d/);
      });
    });
  }

  it('validates every root variable that is not a plain switch, in both roots', () => {
    for (const root of [example, secondary])
      for (const [v, body] of Object.entries(root.variables)) {
        if (body.type === tf('bool')) continue;
        expect(body.validation, `${relative(TF_ROOT, root.dir)} variable ${v} has no validation`).toBeDefined();
      }
  });

  it('outputs the API URL', () => {
    expect(example.outputs.api_url?.value).toMatch(/https:\/\//);
  });
});

describe('deploy/terraform: what the deployment promises', () => {
  it('network: VPC with public and private subnets across at least two AZs, NAT for the private ones', () => {
    const n = mod('network');
    for (const r of ['aws_vpc.this', 'aws_subnet.public', 'aws_subnet.private', 'aws_nat_gateway.this'])
      expect(n.resources).toContain(r);
    expect(resource(n, 'aws_subnet', 'private').count).toBe(tf('var.az_count'));
    expect(String(n.variables.az_count?.validation && JSON.stringify(n.variables.az_count.validation))).toContain(
      'var.az_count >= 2',
    );
  });

  it('alb: HTTPS listener on an ACM certificate, HTTP redirected to HTTPS, a rule and target group per service', () => {
    const a = mod('alb');
    const https = resource(a, 'aws_lb_listener', 'https');
    expect([https.port, https.protocol, https.certificate_arn]).toEqual([443, 'HTTPS', tf('var.certificate_arn')]);
    const http = resource(a, 'aws_lb_listener', 'http');
    expect(JSON.stringify(http.default_action)).toContain('"protocol":"HTTPS"');
    expect(resource(a, 'aws_lb_target_group', 'service').for_each).toBe(tf('var.services'));
    expect(resource(a, 'aws_lb_listener_rule', 'service').for_each).toBe(tf('var.services'));
    expect(Object.keys((example.modules.alb?.services ?? {}) as Block).sort()).toEqual([
      'inventory',
      'order',
      'payment',
    ]);
  });

  it('ecs-service: Fargate, log group with retention, autoscaling on CPU and on queue depth', () => {
    const e = mod('ecs-service');
    expect(resource(e, 'aws_ecs_task_definition', 'this').requires_compatibilities).toEqual(['FARGATE']);
    expect(resource(e, 'aws_cloudwatch_log_group', 'this').retention_in_days).toBe(tf('var.log_retention_days'));
    expect(JSON.stringify(resource(e, 'aws_appautoscaling_policy', 'cpu'))).toContain(
      'ECSServiceAverageCPUUtilization',
    );
    expect(JSON.stringify(resource(e, 'aws_appautoscaling_policy', 'queue_depth'))).toContain(
      'customized_metric_specification',
    );
    // The saga workers scale on their partition queues, inventory and payment on theirs.
    expect(allText(example)).toMatch(/metric_name\s*=\s*"MessageReadyCount"/);
  });

  it('secrets: every credential in Secrets Manager, handed to tasks as ECS secrets, never as plain environment', () => {
    const s = mod('secrets');
    expect(s.resources).toContain('aws_secretsmanager_secret.generated');
    const e = mod('ecs-service');
    const container = String(resource(e, 'aws_ecs_task_definition', 'this').container_definitions);
    expect(container).toMatch(/secrets\s*=\s*\[for k in sort\(keys\(var\.secrets\)\) : \{ name = k, valueFrom/);
    // The module rejects credentials in `environment`, and the example passes every credential as a secret.
    expect(JSON.stringify(e.variables.environment?.validation)).toContain('SECRET|PASSWORD|TOKEN');
    const text = allText(example);
    for (const setting of ['_DATABASE_URL"', 'AMQP_URL', 'REDIS_URL', 'JWT_SECRET'])
      expect(text.slice(text.indexOf('service_secrets = {'))).toContain(setting);
    const env = ((example.files['main.tf']?.locals ?? []) as Block[])[0]?.common_environment as Block;
    for (const k of Object.keys(env)) expect(k).not.toMatch(/SECRET|PASSWORD|TOKEN|_URL$/);
    for (const generated of ['jwt-secret', 'mq-password', 'redis-auth-token', 'order-db-password'])
      expect(text).toContain(generated.includes('db-password') ? '-db-password' : `"${generated}"`);
  });

  it('rds: PostgreSQL per service, encrypted, with automated backups and Multi-AZ / deletion-protection switches', () => {
    const db = resource(mod('rds'), 'aws_db_instance', 'this');
    expect(db.engine).toBe('postgres');
    expect(db.storage_encrypted).toBe(true);
    expect(db.backup_retention_period).toBe(tf('var.backup_retention_days'));
    expect(db.multi_az).toBe(tf('var.multi_az'));
    expect(db.deletion_protection).toBe(tf('var.deletion_protection'));
    expect(db.publicly_accessible).toBe(false);
    expect(example.modules.database?.for_each).toBe(tf('toset(local.services)'));
  });

  it('elasticache: Redis with an AUTH token and TLS in transit; mq: Amazon MQ for RabbitMQ', () => {
    const r = resource(mod('elasticache'), 'aws_elasticache_replication_group', 'this');
    expect(r.transit_encryption_enabled).toBe(true);
    expect(r.at_rest_encryption_enabled).toBe(true);
    expect(r.auth_token).toBe(tf('var.auth_token'));
    const mq = resource(mod('mq'), 'aws_mq_broker', 'this');
    expect(mq.engine_type).toBe('RabbitMQ');
    expect(mq.publicly_accessible).toBe(false);
  });

  it('ecr: repository with a lifecycle policy', () => {
    expect(mod('ecr').resources).toEqual(
      new Set(['aws_ecr_repository.this', 'aws_ecr_lifecycle_policy.this', 'aws_ecr_replication_configuration.this']),
    );
  });

  it('alarms: CPU, memory, ALB 5xx, dead letters and outbox lag, all to one SNS topic', () => {
    const al = mod('alarms');
    const metrics = [...al.resources]
      .filter((r) => r.startsWith('aws_cloudwatch_metric_alarm.'))
      .map((r) => resource(al, 'aws_cloudwatch_metric_alarm', r.split('.')[1] as string));
    const names = metrics.map((m) => m.metric_name);
    for (const metric of [
      'CPUUtilization',
      'MemoryUtilization',
      'HTTPCode_ELB_5XX_Count',
      'HTTPCode_Target_5XX_Count',
      'MessageCount',
      tf('var.outbox_lag_metric_name'),
    ])
      expect(names).toContain(metric);
    for (const m of metrics) expect(m.alarm_actions).toBe(tf('local.actions'));
    expect(al.locals.has('actions')).toBe(true);
    expect(allText(al)).toMatch(/actions = \[aws_sns_topic\.alarms\.arn\]/);
  });

  it('security groups: each dependency admits only the security groups of the services that use it', () => {
    for (const [name, port] of [
      ['rds', 5432],
      ['elasticache', 6379],
      ['mq', 5671],
    ] as const) {
      const m = mod(name);
      const ingress = Object.values(m.files)
        .flatMap((p) =>
          Object.values(
            ((p.resource as Record<string, Record<string, Block[]>>)?.aws_vpc_security_group_ingress_rule ??
              {}) as Record<string, Block[]>,
          ),
        )
        .map((b) => b[0] as Block);
      expect(ingress.length, name).toBeGreaterThan(0);
      for (const rule of ingress) {
        expect(rule.cidr_ipv4, `${name} admits an address range`).toBeUndefined();
        expect(String(rule.referenced_security_group_id), name).toMatch(/security_group_ids\[count\.index\]/);
      }
      expect(ingress.some((r) => r.from_port === port && r.to_port === port)).toBe(true);
    }
    const fromAlb = resource(mod('ecs-service'), 'aws_vpc_security_group_ingress_rule', 'from_alb');
    expect(fromAlb.referenced_security_group_id).toBe(tf('var.load_balancer.security_group_id'));
    expect(fromAlb.from_port).toBe(tf('var.container_port'));
    // Each database admits the tasks of its own service only.
    expect(String(example.modules.database?.client_security_group_ids)).toContain('if svc.service == each.key');
  });
});

describe('deploy/terraform: generated READMEs and the lock file', () => {
  it('every README section is what `npm run docs:terraform` writes', () => {
    const r = spawnSync(process.execPath, [join(TF_ROOT, 'docs.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('commits a .terraform.lock.hcl pinning hashicorp/aws in every example root', () => {
    for (const dir of moduleDirs.filter((d) => d.includes('/examples/'))) {
      const lock = readFileSync(join(dir, '.terraform.lock.hcl'), 'utf8');
      expect(lock).toMatch(/provider "registry\.terraform\.io\/hashicorp\/aws" \{\n\s+version\s+= "5\.\d+\.\d+"/);
      expect(lock).toMatch(/"h1:[A-Za-z0-9+/=]+"/);
    }
  });
});

describe('deploy/terraform: formatting', () => {
  it('is `terraform fmt` clean', () => {
    if (!existsSync(TERRAFORM)) {
      // Without the binary there is nothing to run; the parse checks above still hold.
      expect(existsSync(TERRAFORM)).toBe(false);
      return;
    }
    let output = '';
    try {
      output = execFileSync(TERRAFORM, ['fmt', '-check', '-recursive', '-list=true', TF_ROOT], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const e = err as { stdout?: string; status?: number };
      throw new Error(`terraform fmt -check failed (exit ${e.status}); unformatted files:\n${e.stdout}`);
    }
    expect(output.trim()).toBe('');
  });
});

describe('deploy/terraform: service discovery and the operator path (issue 24)', () => {
  it('ECS Service Connect over a Cloud Map namespace; the order service reaches inventory and payment by name', () => {
    expect(example.resources).toContain('aws_service_discovery_http_namespace.this');
    expect(example.variables.service_discovery_namespace?.default).toBe('commerce.internal');
    const cluster = resource(example, 'aws_ecs_cluster', 'this');
    expect(JSON.stringify(cluster.service_connect_defaults)).toContain(
      tf('aws_service_discovery_http_namespace.this.arn'),
    );
    const e = mod('ecs-service');
    const service = resource(e, 'aws_ecs_service', 'this');
    const sc = JSON.stringify(service.dynamic);
    expect(sc).toContain('service_connect_configuration');
    expect(sc).toContain('client_alias');
    expect(String(resource(e, 'aws_ecs_task_definition', 'this').container_definitions)).toContain(
      'name = local.port_name',
    );
    const call = example.modules.service as Block;
    expect(JSON.stringify(call.service_connect)).toContain('aws_service_discovery_http_namespace.this.arn');
    expect(String(call.environment)).toContain('local.peer_environment');
    const text = allText(example);
    expect(text).toMatch(/INVENTORY_URL\s*=\s*local\.service_urls\.inventory/);
    expect(text).toMatch(/PAYMENT_URL\s*=\s*local\.service_urls\.payment/);
    expect(text).toContain(`"http://${tf('local.discovery_names[s]')}:${tf('local.ports[s]')}"`);
    expect(text).toContain(`"${tf('s')}.${tf('var.service_discovery_namespace')}"`);
    // Peers reach each other's service port: a shared task group, admitted by every service.
    expect(resource(e, 'aws_vpc_security_group_ingress_rule', 'from_peers').referenced_security_group_id).toBe(
      tf('var.peer_security_group_ids[count.index]'),
    );
    expect(call.peer_security_group_ids).toEqual([tf('aws_security_group.platform_tasks.id')]);
  });

  it('operator path: no public route to /console or /admin; ECS Exec on the tasks; one-off tasks can run scripts', () => {
    for (const svc of Object.values((example.modules.alb?.services ?? {}) as Record<string, Block>))
      for (const p of svc.path_patterns as string[]) expect(p).not.toMatch(/console|admin/);
    expect(example.modules.service?.enable_execute_command).toBe(tf('var.enable_execute_command'));
    expect(example.variables.enable_execute_command?.default).toBe(true);
    const e = mod('ecs-service');
    expect(resource(e, 'aws_ecs_service', 'this').enable_execute_command).toBe(tf('var.enable_execute_command'));
    const container = String(resource(e, 'aws_ecs_task_definition', 'this').container_definitions);
    expect(container).toMatch(/entryPoint\s*=\s*\["\/usr\/bin\/tini", "--", "node"\]/);
    expect(container).toContain('concat(["apps/platform/dist/main.js"], var.command)');
    expect(readFileSync(join(ROOT, 'deploy/Dockerfile'), 'utf8')).toMatch(/^COPY .*deploy\/migrate\.mjs/m);
  });
});

describe('deploy/terraform: the second region (issue 24, docs/multi-region.md)', () => {
  it('the standby root uses the same modules as the primary, no others', () => {
    const sources = (m: TfModule) => new Set(Object.values(m.modules).map((b) => String(b.source)));
    const primary = sources(example);
    for (const s of sources(secondary)) expect(primary, `aws-secondary uses ${s}`).toContain(s);
    for (const s of primary) if (s !== '../../modules/ecr') expect(sources(secondary)).toContain(s);
  });

  it('each service database is a cross-region read replica of the primary, promoted by failover = true', () => {
    const db = resource(mod('rds'), 'aws_db_instance', 'this');
    expect(db.replicate_source_db).toBe(tf('var.replicate_source_db'));
    expect(mod('rds').outputs.arn?.value).toBe(tf('aws_db_instance.this.arn'));
    const call = secondary.modules.database as Block;
    expect(call.for_each).toBe(tf('toset(local.services)'));
    expect(call.replicate_source_db).toBe(tf('var.failover ? null : var.primary_database_arns[each.key]'));
    expect(call.kms_key_id).toBe(tf('var.db_kms_key_arn'));
    expect(example.outputs.database_arns?.value).toContain('m.arn');
    // Replica lag (the recovery point) alarms while the region is a standby.
    expect(resource(secondary, 'aws_cloudwatch_metric_alarm', 'replica_lag').metric_name).toBe('ReplicaLag');
    // Until failover the services run no task: nothing writes to a replica.
    expect(allText(secondary)).toContain('var.failover ? s : merge(s, { min_capacity = 0, desired_count = 0 })');
  });

  it('Amazon MQ and Redis of its own; image and shared secrets replicated from the primary', () => {
    expect(Object.keys(secondary.modules)).toEqual(expect.arrayContaining(['mq', 'redis', 'network', 'alb', 'alarms']));
    expect(example.modules.ecr?.replication_regions).toBe(tf('var.standby_region == null ? [] : [var.standby_region]'));
    expect(example.modules.credentials?.replica_regions).toBe(
      tf('var.standby_region == null ? [] : [var.standby_region]'),
    );
    expect(JSON.stringify(resource(mod('secrets'), 'aws_secretsmanager_secret', 'generated').dynamic)).toContain(
      'replica',
    );
    expect(String(secondary.modules.service?.image)).toContain(`dkr.ecr.${tf('var.aws_region')}.amazonaws.com`);
    expect(allText(secondary)).toMatch(
      /JWT_SECRET\s*=\s*data\.aws_secretsmanager_secret\.replicated\["jwt-secret"\]\.arn/,
    );
  });

  it('Route 53 failover on the ALB health: PRIMARY in the primary root, SECONDARY in the standby root', () => {
    for (const [root, name, type] of [
      [example, 'api_primary', 'PRIMARY'],
      [secondary, 'api_secondary', 'SECONDARY'],
    ] as const) {
      const r = resource(root, 'aws_route53_record', name);
      expect(JSON.stringify(r.failover_routing_policy)).toContain(`"type":"${type}"`);
      const alias = (r.alias as Block[])[0] as Block;
      expect(alias.name).toBe(tf('module.alb.dns_name'));
      expect(alias.evaluate_target_health).toBe(true);
      expect(r.name).toBe(tf('var.api_domain_name'));
    }
  });

  it('docs/multi-region.md has the failure model, the design, RPO/RTO and a runbook, and the README links it', () => {
    const doc = readFileSync(join(ROOT, 'docs/multi-region.md'), 'utf8');
    for (const heading of ['## Failure model', '## Design', '## RPO and RTO', '## Across a failover', '## Runbook'])
      expect(doc).toContain(heading);
    for (const piece of ['read replica', 'Amazon MQ', 'ECR replication', 'Route 53', 'outbox', 'inbox'])
      expect(doc).toContain(piece);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('(docs/multi-region.md)');
  });
});
