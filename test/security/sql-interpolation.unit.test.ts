// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the samples are TypeScript source given to the detector
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findSqlInterpolation } from './sql-interpolation.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCANNED = ['packages', 'services', 'apps'];
const SKIP_DIRS = new Set(['node_modules', 'dist', '.data', 'coverage']);

async function tsFiles(dir: string): Promise<string[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...(await tsFiles(join(dir, e.name))));
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(join(dir, e.name));
  }
  return out;
}

describe('the detector', () => {
  it('flags values interpolated or concatenated into SQL', () => {
    const code = [
      'const a = `SELECT * FROM orders WHERE id = ${id}`;',
      "const b = 'SELECT * FROM orders WHERE id = ' + id;",
      'const c = `UPDATE products\n  SET stock = ${n}`;',
      "const d = 'DELETE FROM t WHERE a = ' + x + ' AND b = 1';",
      'const e = `INSERT INTO t (a) VALUES (${v})`;',
      'const f = `CREATE DATABASE ${name}`;',
      'let COLS = "a"; const g = `SELECT ${COLS} FROM t`;',
      'const h = `SELECT a FROM t WHERE ${clauses.join(" AND ")}`;',
      'const i = `SELECT a FROM t WHERE id = $${userInput}`;',
      'const bad: string[] = []; bad.push(`a = ${value}`);',
      'const j = `SELECT a FROM t WHERE ${bad.join(" AND ")}`;',
    ].join('\n');
    expect(findSqlInterpolation(code).map((f) => f.line)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10, 12]);
  });

  it('leaves parameterized SQL, plain messages and reviewed identifier lines alone', () => {
    const code = [
      "await db.query('SELECT * FROM orders WHERE id = $1', [id]);",
      'await db.query(`SELECT * FROM orders\n  WHERE id = $1`, [id]);',
      'log.info(`order ${id} was updated`);',
      'throw new Error(`failed to select ${what}`);',
      '// sql-identifier-ok: name quoted by quote_ident',
      'await c.query(`CREATE DATABASE ${quoted}`);',
      'await c.query(`DROP DATABASE ${q}`); // sql-identifier-ok: q from escapeIdentifier',
      "const COLUMNS = 'order_id, status';",
      'await db.query(`SELECT ${COLUMNS} FROM orders WHERE id = $${params.length}`, params);',
      'await db.query(`SELECT a FROM t ${cond ? `WHERE a = $${params.length + 1}` : ""}`, params);',
      'const where: string[] = []; where.push(`a = $${params.length}`); where.push("b IS NULL");',
      'await db.query(`SELECT a FROM t WHERE ${where.join(" AND ")}`, params);',
    ].join('\n');
    expect(findSqlInterpolation(code)).toEqual([]);
  });

  it('requires a reason after the marker', () => {
    expect(findSqlInterpolation('await c.query(`DROP TABLE ${t}`); // sql-identifier-ok:')).toHaveLength(1);
  });
});

describe('the source tree', () => {
  it('builds no SQL from values (packages/, services/, apps/)', async () => {
    const files = (await Promise.all(SCANNED.map((d) => tsFiles(join(ROOT, d))))).flat();
    expect(files.length).toBeGreaterThan(10);
    const findings = [];
    for (const file of files)
      findings.push(...findSqlInterpolation(await readFile(file, 'utf8'), relative(ROOT, file)));
    const listing = findings.map((f) => `${f.file}:${f.line}: ${f.text}`).join('\n');
    expect(
      listing,
      `SQL built from values (use $n parameters, or mark a quoted identifier with // sql-identifier-ok: <reason>):\n${listing}`,
    ).toBe('');
  });
});
