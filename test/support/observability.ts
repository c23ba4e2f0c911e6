/**
 * The metric names deploy/observability names: in the Grafana dashboard's queries and in the Prometheus alert rules.
 * Used by the deploy unit test (the files parse) and by the metric-names e2e test (each name exists on a running
 * platform's /metrics).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './platform.js';

export const OBSERVABILITY = join(ROOT, 'deploy/observability');

interface Panel {
  title?: string;
  type?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

export function dashboard(): { title: string; panels: Panel[] } {
  return JSON.parse(readFileSync(join(OBSERVABILITY, 'grafana/dashboards/commerce.json'), 'utf8'));
}

export function alertRules(): { alert: string; expr: string }[] {
  const file = parse(readFileSync(join(OBSERVABILITY, 'prometheus/rules.yml'), 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return file.groups.flatMap((g) => g.rules);
}

/** Every PromQL expression of the dashboard's panels (rows included). */
export function dashboardExprs(): string[] {
  const walk = (panels: Panel[]): string[] =>
    panels.flatMap((p) => [...(p.targets ?? []).map((t) => t.expr ?? ''), ...walk(p.panels ?? [])]);
  return walk(dashboard().panels).filter((e) => e !== '');
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
]);

/** The metric names in a PromQL expression: identifiers that are not functions, keywords or label names. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\$\w+/g, ' '); // Grafana variables
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\()?)/g)) {
    const [name, call] = [m[0], m[1]];
    if (call || KEYWORDS.has(name) || /^\d/.test(name)) continue;
    // A number's exponent or a duration's unit (5m) is no name: skip identifiers glued after a digit.
    const before = stripped[(m.index ?? 0) - 1];
    if (before && /[0-9.]/.test(before)) continue;
    names.add(name);
  }
  return [...names];
}

/** Every metric name the dashboard and the alert rules use, each with where it is used. */
export function observedMetricNames(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  const add = (expr: string, where: string) => {
    for (const n of metricNamesIn(expr)) used.set(n, [...(used.get(n) ?? []), where]);
  };
  for (const e of dashboardExprs()) add(e, 'dashboard');
  for (const r of alertRules()) add(r.expr, `rule ${r.alert}`);
  return used;
}

/** The metric families a Prometheus exposition declares (`# TYPE name type`), with their type. */
export function exposedFamilies(exposition: string): Map<string, string> {
  const families = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) families.set(m[1] as string, m[2] as string);
  return families;
}

/** Whether `name` (a family, or a histogram's `_bucket`/`_sum`/`_count` series) is among `families`. */
export function exposes(families: Map<string, string>, name: string): boolean {
  if (families.has(name)) return true;
  const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  return base !== undefined && ['histogram', 'summary'].includes(families.get(base) ?? '');
}

/** The sum of the samples of `name` whose labels include every given `label="value"`. */
export function sampleSum(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of exposition.split('\n')) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total = (total ?? 0) + Number(line.split(' ').pop());
  }
  return total;
}
