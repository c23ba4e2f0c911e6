/**
 * The README's settings table is the settings schema's (SETTINGS in packages/kernel/src/config.ts): regenerate it
 * with `npm run docs:settings` after changing a setting. Every setting also names the test that starts the platform
 * with a non-default value of it and observes the effect (SETTING_TESTS in ./coverage.ts).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SETTING_NAMES } from '@commerce/kernel';
import { describe, expect, it } from 'vitest';
import {
  END_MARKER,
  README,
  START_MARKER,
  settingsRows,
  withSettingsTable,
} from '../../apps/platform/src/settingsDoc.js';
import { SETTING_TESTS } from './coverage.js';

const ROOT = resolve(import.meta.dirname, '../..');
const readme = readFileSync(README, 'utf8');
const table = readme.slice(readme.indexOf(START_MARKER), readme.indexOf(END_MARKER));

describe('README settings table', () => {
  it('is the one generated from the settings schema (npm run docs:settings)', () => {
    expect(readme).toContain(START_MARKER);
    expect(withSettingsTable(readme)).toBe(readme);
  });

  it('has a row naming every setting of the schema, and no setting the schema does not have', () => {
    const named = [...table.matchAll(/^\| ([^|]+)\|/gm)].flatMap((m) =>
      [...(m[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((n) => n[1]),
    );
    expect(named.sort()).toEqual([...SETTING_NAMES].sort());
    expect(settingsRows().flatMap((r) => r.names)).toEqual(SETTING_NAMES);
  });

  it('differs from the schema once a row is removed or a setting is added without regenerating', () => {
    const withoutRow = readme.replace(/^\| `LOG_LEVEL`.*\n/m, '');
    expect(withoutRow).not.toBe(readme);
    expect(withSettingsTable(withoutRow)).not.toBe(withoutRow);
    const extraRow = readme.replace(/^(\| `LOG_LEVEL`.*\n)/m, '$1| `NEW_SETTING` | 1 | something new |\n');
    expect(withSettingsTable(extraRow)).not.toBe(extraRow);
  });
});

describe('every setting has a test that starts the platform with a non-default value of it (./coverage.ts)', () => {
  it('names at least one test for every setting of the schema, and no other setting', () => {
    expect(Object.keys(SETTING_TESTS).sort()).toEqual([...SETTING_NAMES].sort());
    for (const name of SETTING_NAMES) expect(SETTING_TESTS[name].length, name).toBeGreaterThan(0);
  });

  it('names tests that exist, in the files it says', () => {
    const files = new Map<string, string>();
    for (const [name, tests] of Object.entries(SETTING_TESTS))
      for (const { file, test } of tests) {
        if (!files.has(file)) files.set(file, readFileSync(join(ROOT, file), 'utf8'));
        expect(
          files.get(file)?.includes(`'${test}'`) || files.get(file)?.includes(`"${test}"`),
          `${name}: ${file} › ${test}`,
        ).toBe(true);
      }
  });
});
