/**
 * Finds SQL built from values: template literals with `${...}` whose text reads like SQL, and string literals
 * that read like SQL joined with `+` to something that is not a literal. Values must go in `$1` parameters.
 *
 * Provably value-free substitutions pass: literals, a `const` of this file initialised with a literal (a column
 * list), `x.length` arithmetic (a placeholder number, as in `$${params.length}`), and conditionals or nested
 * templates made only of those, and `clauses.join(' AND ')` of a const array that is only ever pushed such
 * fragments (every use of that name in the file is checked).
 *
 * Identifiers (a database or table name) cannot be parameters: such a line may carry the reviewed marker
 * `// sql-identifier-ok: <reason>` (on a line of the expression or the line above it), and the interpolated
 * value must be an identifier quoted by the server (quote_ident / escapeIdentifier), never a value.
 */
import ts from 'typescript';

export interface SqlFinding {
  file: string;
  line: number;
  text: string;
}

/** Text that reads like a SQL statement or clause. */
const SQL_SHAPES: RegExp[] = [
  /\bselect\b[\s\S]*\bfrom\b/i,
  /\binsert\s+into\b/i,
  /\bupdate\s+[\w".]+\s+set\b/i,
  /\bdelete\s+from\b/i,
  /\bWHERE\b/,
  /\bVALUES\s*\(/i,
  /\b(create|drop|alter|truncate)\s+(table|database|index|schema|role|unique\s+index)\b/i,
  /\bON\s+CONFLICT\b/i,
  /\b(SELECT|INSERT|UPDATE|DELETE)\b/,
];

export const ALLOW_MARKER = /\/\/\s*sql-identifier-ok:\s*\S/;

export function looksLikeSql(text: string): boolean {
  return SQL_SHAPES.some((re) => re.test(text));
}

function literalText(node: ts.TemplateExpression): string {
  return node.head.text + node.templateSpans.map((s) => ` \${} ${s.literal.text}`).join('');
}

function isStringy(node: ts.Node): node is ts.StringLiteral | ts.NoSubstitutionTemplateLiteral {
  return ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node);
}

/** Flattens a + chain into its operands. */
function operands(node: ts.Expression): ts.Expression[] {
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken)
    return [...operands(node.left), ...operands(node.right)];
  if (ts.isParenthesizedExpression(node)) return operands(node.expression);
  return [node];
}

/** `const NAME = <literal>` declarations of the file, by name (a name declared twice is not trusted). */
function literalConstants(sf: ts.SourceFile): Map<string, ts.Expression | null> {
  const found = new Map<string, ts.Expression | null>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name)) {
      const isConst = (ts.getCombinedNodeFlags(node) & ts.NodeFlags.Const) !== 0;
      const name = node.name.text;
      found.set(name, !found.has(name) && isConst && node.initializer ? node.initializer : null);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

interface FileFacts {
  constants: Map<string, ts.Expression | null>;
  sf: ts.SourceFile;
}

/** True if every use of array `name` in the file only pushes value-free fragments, joins or measures it. */
function fragmentArray(name: string, facts: FileFacts, depth: number): boolean {
  let ok = true;
  let declared = false;
  const visit = (node: ts.Node): void => {
    if (!ok) return;
    if (ts.isIdentifier(node) && node.text === name) {
      const parent = node.parent;
      if (ts.isVariableDeclaration(parent) && parent.name === node) {
        const isConst = (ts.getCombinedNodeFlags(parent) & ts.NodeFlags.Const) !== 0;
        const init = parent.initializer;
        declared = true;
        ok =
          isConst &&
          init !== undefined &&
          ts.isArrayLiteralExpression(init) &&
          init.elements.every((e) => valueFree(e, facts, depth + 1));
        return;
      }
      if (!ts.isPropertyAccessExpression(parent) || parent.expression !== node) {
        ok = false;
        return;
      }
      const method = parent.name.text;
      if (method === 'length') return;
      const call = parent.parent;
      if (!ts.isCallExpression(call) || call.expression !== parent) {
        ok = false;
        return;
      }
      if (method === 'push') ok = call.arguments.every((a) => valueFree(a, facts, depth + 1));
      else if (method === 'join') ok = call.arguments.every((a) => isStringy(a));
      else ok = false;
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(facts.sf);
  return ok && declared;
}

function valueFree(expr: ts.Expression, facts: FileFacts, depth = 0): boolean {
  if (depth > 20) return false;
  const { constants } = facts;
  const next = (e: ts.Expression) => valueFree(e, facts, depth + 1);
  if (ts.isParenthesizedExpression(expr) || ts.isAsExpression(expr)) return next(expr.expression);
  if (isStringy(expr) || ts.isNumericLiteral(expr)) return true;
  if (ts.isIdentifier(expr)) {
    const init = constants.get(expr.text);
    return init !== undefined && init !== null && next(init);
  }
  if (ts.isPropertyAccessExpression(expr) && expr.name.text === 'length') return true;
  if (
    ts.isCallExpression(expr) &&
    ts.isPropertyAccessExpression(expr.expression) &&
    expr.expression.name.text === 'join' &&
    ts.isIdentifier(expr.expression.expression)
  )
    return fragmentArray(expr.expression.expression.text, facts, depth);
  if (ts.isBinaryExpression(expr)) {
    const op = expr.operatorToken.kind;
    const arithmetic = [ts.SyntaxKind.PlusToken, ts.SyntaxKind.MinusToken, ts.SyntaxKind.AsteriskToken];
    return arithmetic.includes(op) && next(expr.left) && next(expr.right);
  }
  if (ts.isConditionalExpression(expr)) return next(expr.whenTrue) && next(expr.whenFalse);
  if (ts.isTemplateExpression(expr)) return expr.templateSpans.every((s) => next(s.expression));
  return false;
}

export function findSqlInterpolation(source: string, file = 'input.ts'): SqlFinding[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const facts: FileFacts = { constants: literalConstants(sf), sf };
  const lines = source.split('\n');
  const findings: SqlFinding[] = [];
  const allowed = (node: ts.Node): boolean => {
    const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
    const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
    for (let l = Math.max(0, start - 1); l <= end; l++) if (ALLOW_MARKER.test(lines[l] ?? '')) return true;
    return false;
  };
  const report = (node: ts.Node) => {
    if (allowed(node)) return;
    const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
    if (findings.some((f) => f.line === line + 1)) return;
    findings.push({ file, line: line + 1, text: (lines[line] ?? '').trim().slice(0, 160) });
  };
  const visit = (node: ts.Node): void => {
    if (
      ts.isTemplateExpression(node) &&
      looksLikeSql(literalText(node)) &&
      !node.templateSpans.every((s) => valueFree(s.expression, facts))
    ) {
      report(node);
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.PlusToken &&
      !(ts.isBinaryExpression(node.parent) && node.parent.operatorToken.kind === ts.SyntaxKind.PlusToken)
    ) {
      const parts = operands(node);
      const sqlText = parts.filter(isStringy).map((p) => p.text);
      const hasValue = parts.some((p) => !valueFree(p, facts));
      if (hasValue && looksLikeSql(sqlText.join(' '))) report(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return findings;
}
