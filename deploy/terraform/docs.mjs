#!/usr/bin/env node
// Writes the inputs and outputs tables of every module's and example's README.md between the markers
// <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS --> (terraform-docs' convention and table layout), from the .tf files.
// `node deploy/terraform/docs.mjs` (npm run docs:terraform) rewrites them; `--check` exits 1 naming each README
// that is out of date. test/deploy/terraform.unit.test.ts runs the check and compares the names independently.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const hcl = createRequire(import.meta.url)('hcl2-parser');
const here = dirname(fileURLToPath(import.meta.url));
export const BEGIN = '<!-- BEGIN_TF_DOCS -->';
export const END = '<!-- END_TF_DOCS -->';

const cell = (s) => String(s).replace(/\s+/g, ' ').trim().replaceAll('|', '\\|');
const expr = (v) => (typeof v === 'string' && v.startsWith('${') && v.endsWith('}') ? v.slice(2, -1) : v);
const code = (s) => `\`${cell(s)}\``;

function blocks(dir, kind) {
  const out = {};
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.tf'))
    .sort()) {
    const [parsed, error] = hcl.parseToObject(readFileSync(join(dir, f), 'utf8'));
    if (!parsed) throw new Error(`${join(dir, f)} does not parse: ${JSON.stringify(error)}`);
    for (const [name, [body]] of Object.entries(parsed[kind] ?? {})) out[name] = body;
  }
  return out;
}

/** The generated section of one module's README. */
export function tables(dir) {
  const variables = blocks(dir, 'variable');
  const outputs = blocks(dir, 'output');
  const lines = [BEGIN, '## Inputs', ''];
  const names = Object.keys(variables).sort();
  if (names.length === 0) lines.push('No inputs.');
  else {
    lines.push(
      '| Name | Description | Type | Default | Required |',
      '|------|-------------|------|---------|:--------:|',
    );
    for (const n of names) {
      const v = variables[n];
      const required = !('default' in v);
      const def = required ? 'n/a' : code(typeof v.default === 'string' ? expr(v.default) : JSON.stringify(v.default));
      lines.push(
        `| <a name="input_${n}"></a> [${n}](#input_${n}) | ${cell(v.description ?? '')} | ${code(expr(v.type ?? 'any'))} | ${def} | ${required ? 'yes' : 'no'} |`,
      );
    }
  }
  lines.push('', '## Outputs', '');
  const outs = Object.keys(outputs).sort();
  if (outs.length === 0) lines.push('No outputs.');
  else {
    lines.push('| Name | Description |', '|------|-------------|');
    for (const n of outs)
      lines.push(`| <a name="output_${n}"></a> [${n}](#output_${n}) | ${cell(outputs[n].description ?? '')} |`);
  }
  lines.push(END);
  return lines.join('\n');
}

export function moduleDirs() {
  return ['modules', 'examples'].flatMap((g) =>
    readdirSync(join(here, g))
      .map((n) => join(here, g, n))
      .filter((d) => statSync(d).isDirectory()),
  );
}

/** The README with its generated section brought up to date (appended if the markers are missing). */
export function render(dir) {
  const path = join(dir, 'README.md');
  const current = existsSync(path) ? readFileSync(path, 'utf8') : `# ${relative(here, dir)}\n`;
  const section = tables(dir);
  const [b, e] = [current.indexOf(BEGIN), current.indexOf(END)];
  if (b >= 0 && e > b) return current.slice(0, b) + section + current.slice(e + END.length);
  return `${current.trimEnd()}\n\n${section}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  const stale = [];
  for (const dir of moduleDirs()) {
    const path = join(dir, 'README.md');
    const next = render(dir);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : null;
    if (current === next) continue;
    if (check) stale.push(relative(process.cwd(), path));
    else writeFileSync(path, next);
  }
  if (stale.length) {
    console.error(`out of date (run npm run docs:terraform): ${stale.join(', ')}`);
    process.exit(1);
  }
}
