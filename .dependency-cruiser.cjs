/**
 * Import rules checked by `npm test` (npm run check:imports). Every import of a package must be declared in the
 * package.json of the workspace that imports it: npm's hoisting would otherwise let an undeclared import resolve
 * here and break wherever the workspace is installed on its own (a Docker stage, a publish).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ---- layers (docs/architecture.md "Layers and who may import whom") ----
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment:
        'domain/ holds pure deciders: it imports only its own domain/ and the shared contracts (types, schemas).',
      from: { path: '^services/([^/]+)/src/domain/' },
      to: {
        pathNot: ['^services/$1/src/domain/', '^packages/contracts/', '^node_modules/@sinclair/typebox/'],
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'application-not-to-adapters',
      severity: 'error',
      comment:
        'application/ loads, decides and returns effects against ports it declares: it imports its domain/, its application/, the kernel and the contracts, never adapters/.',
      from: { path: '^services/([^/]+)/src/application/' },
      to: { path: '^services/$1/src/adapters/' },
    },
    {
      name: 'service-not-to-other-service',
      severity: 'error',
      comment: 'Services talk only through messages: no service imports another.',
      from: { path: '^services/([^/]+)/' },
      to: { path: '^services/', pathNot: '^services/$1/' },
    },
    {
      name: 'kernel-and-contracts-not-to-services-or-apps',
      severity: 'error',
      comment: 'The kernel and the contracts are used by the services and the apps, never the other way round.',
      from: { path: '^packages/(kernel|contracts)/src/' },
      to: { path: '^(services|apps)/' },
    },
    {
      name: 'contracts-not-to-kernel',
      severity: 'error',
      comment: 'The contracts are the shared language: they depend on nothing of ours.',
      from: { path: '^packages/contracts/src/' },
      to: { path: '^packages/kernel/' },
    },
    {
      name: 'apps-through-service-entry',
      severity: 'error',
      comment: 'Apps use a service through what its index.ts exports (its package), not its files.',
      from: { path: '^apps/' },
      to: { path: '^services/[^/]+/src/', pathNot: '^services/[^/]+/src/index[.]ts$' },
    },
    {
      name: 'no-import-cycle',
      severity: 'error',
      comment: 'A cycle ties modules together so that neither can be read, tested or changed alone.',
      from: { path: '^(packages|services|apps)/[^/]+/src/' },
      to: { circular: true },
    },
    // ---- packages ----
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
      // The console's charting library is not in its folder: consoleFiles.ts serves it from the uplot package at
      // /console/vendor/uPlot.esm.js (the one import of it is apps/platform/console/views/analyticsView.js).
      to: { couldNotResolve: true, pathNot: '^[.][.]/vendor/uPlot[.]esm[.]js$' },
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
