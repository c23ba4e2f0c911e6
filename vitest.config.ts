import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['**/*.test.ts'],
    // Probes PostgreSQL, RabbitMQ (and its plugins), Redis and Chromium once; prints what is missing.
    globalSetup: ['test/support/globalSetup.ts'],
    // Every answer of every service in the run is validated against its OpenAPI document (issue 23).
    setupFiles: ['test/support/responseCheckPreload.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
