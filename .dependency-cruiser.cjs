/**
 * Import rules checked by `npm test` (npm run check:imports). Every import of a package must be declared in the
 * package.json of the workspace that imports it: npm's hoisting would otherwise let an undeclared import resolve
 * here and break wherever the workspace is installed on its own (a Docker stage, a publish).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-undeclared-dependency',
      severity: 'error',
      comment:
        "An import of a package that the nearest package.json does not declare: add it to that workspace's dependencies (or devDependencies for tests, bench and tooling).",
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-unresolvable-import',
      severity: 'error',
      comment: 'An import that resolves to nothing: a typo, or a package that is not installed.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-dev-dependency-in-production-code',
      severity: 'error',
      comment: 'Production code (not tests, bench or test fixtures) may import only dependencies, not devDependencies.',
      from: {
        path: '^(packages|services|apps)/[^/]+/src/',
        pathNot: ['[.](unit|int|e2e|disruptive)[.]test[.]ts$', '[.]test[.]ts$'],
      },
      to: { dependencyTypes: ['npm-dev'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    builtInModules: { add: ['bun'] },
  },
};
