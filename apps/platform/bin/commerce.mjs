#!/usr/bin/env node
// The operator CLI: runs the TypeScript source through tsx in a checkout, the built JavaScript in an image.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, '..', 'src', 'cli.ts');
let hasTsx = false;
try {
  createRequire(import.meta.url).resolve('tsx');
  hasTsx = true;
} catch {}
const args =
  hasTsx && existsSync(source)
    ? ['--conditions=source', '--import', 'tsx', source, ...process.argv.slice(2)]
    : [join(here, '..', 'dist', 'cli.js'), ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
