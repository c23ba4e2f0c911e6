// node-postgres internals used by pgBatch.ts (CommonJS modules, exported as pg/lib/*).
declare module 'pg/lib/result.js' {
  const Result: unknown;
  export default Result;
}
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): unknown };
  export default utils;
}
