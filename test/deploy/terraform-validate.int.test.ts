/**
 * `terraform validate` of every example root (deploy/terraform/validate-offline.sh: providers from the local mirror,
 * the committed .terraform.lock.hcl used read-only). Needs the terraform binary and the mirror: skipped naming them
 * without, failing under REQUIRE_SERVICES=1 (test/support/pieces.ts).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { TERRAFORM_PATH, TF_PLUGIN_DIR } from '../support/pieces.js';
import { describeWith } from '../support/services.js';
import { ROOT } from './composeEnv.js';

const TF_ROOT = join(ROOT, 'deploy/terraform');
const roots = readdirSync(join(TF_ROOT, 'examples')).map((r) => `examples/${r}`);

describeWith(['terraform'], 'terraform validate (offline, from the provider mirror)', () => {
  for (const root of roots)
    it(`${root} is valid`, () => {
      const r = spawnSync('bash', [join(TF_ROOT, 'validate-offline.sh'), root], {
        encoding: 'utf8',
        timeout: 300_000,
        env: {
          ...process.env,
          TF_PLUGIN_DIR,
          TF_CLI_CONFIG_FILE: '/dev/null',
          TF_IN_AUTOMATION: '1',
          PATH: `${dirname(TERRAFORM_PATH)}:${process.env.PATH}`,
        },
      });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`== ${root}`);
      expect(r.stdout).toContain('The configuration is valid.');
    }, 300_000);
});
