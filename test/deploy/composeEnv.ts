/** Reads deploy/compose.yaml the way `docker compose` would, to get each container's environment without Docker. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEPLOY = join(ROOT, 'deploy');

export type Env = Record<string, string>;
export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: string[] | string;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition?: string }> | string[];
  /** Started only when one of these profiles is asked for (`docker compose --profile observability up`). */
  profiles?: string[];
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** Compose variable interpolation as `docker compose config` does it, with the given shell environment. */
export function interpolate(text: string, shell: Env = {}): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g,
    (match, name: string | undefined, colon: string, op: string, arg: string) => {
      if (match === '$$') return '$';
      const value = shell[name as string];
      const unset = value === undefined || (colon === ':' && value === '');
      if (!unset) return value as string;
      if (op === '-') return arg;
      if (op === '?') throw new Error(`compose variable ${name} is required: ${arg}`);
      return '';
    },
  );
}

export function loadCompose(shell: Env = {}): ComposeFile {
  const raw = readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8');
  return parse(interpolate(raw, shell), { merge: true }) as ComposeFile;
}

export function parseEnvFile(path: string): Env {
  const env: Env = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (m && !line.trimStart().startsWith('#')) env[m[1] as string] = (m[2] as string).replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/** The environment a container of `service` gets: env_file entries, then `environment` on top. */
export function containerEnv(compose: ComposeFile, service: string): Env {
  const svc = compose.services[service];
  if (!svc) throw new Error(`compose.yaml has no service ${service}`);
  const env: Env = {};
  const files = svc.env_file === undefined ? [] : Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
  for (const f of files) Object.assign(env, parseEnvFile(resolve(DEPLOY, f)));
  if (Array.isArray(svc.environment)) {
    for (const kv of svc.environment) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(svc.environment ?? {})) if (v !== null) env[k] = String(v);
  }
  return env;
}
