/**
 * The README's settings table, generated from the settings schema (packages/kernel/src/config.ts SETTINGS):
 * `npm run docs:settings` rewrites it between the markers; `npm run docs:settings -- --check` exits 1 if it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SETTING_NAMES, SETTINGS, type SettingName, type SettingSchema } from '@commerce/kernel';

export const START_MARKER = '<!-- settings:start -->';
export const END_MARKER = '<!-- settings:end -->';

export interface SettingsRow {
  names: SettingName[];
  variable: string;
  default: string;
  meaning: string;
}

const UNITS: [number, string, string][] = [
  [86_400_000, 'day', 'days'],
  [3_600_000, 'h', 'h'],
  [60_000, 'min', 'min'],
  [1000, 's', 's'],
];

/** 86400000 → "24 h", 604800000 → "7 days", 250 → "250 ms": the largest unit that divides it. */
function duration(ms: number): string {
  if (ms === 0) return '0';
  for (const [size, one, many] of UNITS)
    if (ms % size === 0 && (size !== 86_400_000 || ms / size !== 1))
      return `${ms / size} ${ms / size === 1 ? one : many}`;
  return `${ms} ms`;
}

function scaleOf(name: string): number | undefined {
  if (name.endsWith('_MS')) return 1;
  if (name.endsWith('_SECONDS')) return 1000;
  return undefined;
}

function shownDefault(name: string, schema: SettingSchema): string {
  if (schema.doc?.shownDefault) return schema.doc.shownDefault;
  if (schema.default === undefined) return 'unset';
  const scale = scaleOf(name);
  if (scale !== undefined && typeof schema.default === 'number' && schema.default * scale >= 1000)
    return `${schema.default} (${duration(schema.default * scale)})`;
  return /^[\w.-]+$/.test(String(schema.default)) ? String(schema.default) : `\`${schema.default}\``;
}

/** What the schema allows, in the README's words: a range, the values of an enumeration, a minimum size. */
function allowed(name: string, schema: SettingSchema): string {
  if (schema.type === 'integer') {
    const scale = scaleOf(name);
    const [min, max] = [schema.minimum as number, schema.maximum as number];
    return scale === undefined ? `; ${min} to ${max}` : `; ${duration(min * scale)} to ${duration(max * scale)}`;
  }
  if (schema.anyOf) {
    const values = (schema.anyOf as { const: string }[]).map((s) => `\`${s.const}\``);
    return `; ${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
  }
  if (typeof schema.minBytes === 'number') return `; at least ${schema.minBytes} bytes`;
  return '';
}

/** One row per setting, or per group of settings that share a row (the three ports, the three database URLs). */
export function settingsRows(): SettingsRow[] {
  const rows: SettingsRow[] = [];
  const byGroup = new Map<string, SettingsRow>();
  for (const name of SETTING_NAMES) {
    const schema = SETTINGS.properties[name] as SettingSchema;
    const doc = schema.doc;
    const group = doc?.row ? byGroup.get(doc.row) : undefined;
    if (group) {
      group.names.push(name);
      group.variable += `, \`${name}\``;
      // Unset for all of them: said once.
      const mine = shownDefault(name, schema);
      if (!(mine === 'unset' && group.default === 'unset')) group.default += `, ${mine}`;
      continue;
    }
    const row: SettingsRow = {
      names: [name],
      variable: `\`${name}\``,
      default: shownDefault(name, schema),
      meaning: `${doc?.cli ? 'read by the `commerce` CLI only: ' : ''}${schema.description}${allowed(name, schema)}`,
    };
    if (doc?.row) byGroup.set(doc.row, row);
    rows.push(row);
  }
  return rows;
}

/** The table as prettier formats a markdown table: every column padded to its widest cell. */
export function settingsTable(): string {
  const cells = [['variable', 'default', 'meaning'], ...settingsRows().map((r) => [r.variable, r.default, r.meaning])];
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((row) => [...(row[i] as string)].length)));
  const line = (row: string[]) =>
    `| ${row.map((c, i) => c + ' '.repeat((widths[i] as number) - [...c].length)).join(' | ')} |`;
  const [head, ...body] = cells as [string[], ...string[][]];
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join('\n');
}

/** `readme` with the text between the settings markers replaced by the generated table. */
export function withSettingsTable(readme: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error(`README: expected ${START_MARKER} … ${END_MARKER}`);
  return `${readme.slice(0, start + START_MARKER.length)}\n\n${settingsTable()}\n\n${readme.slice(end)}`;
}

export const README = resolve(import.meta.dirname, '../../../README.md');

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const current = readFileSync(README, 'utf8');
  const next = withSettingsTable(current);
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md: the settings table differs from the settings schema; run `npm run docs:settings`');
      process.exit(1);
    }
  } else if (next !== current) {
    writeFileSync(README, next);
    console.log('README.md: settings table rewritten from the settings schema');
  }
}
