import { defineConfig } from 'vitest/config';

/** `pnpm test:chaos`: real processes, real Redis, one scenario file at a time; the table prints at the end. */
export default defineConfig({
  test: {
    include: ['tests/chaos/**/*.chaos.test.ts'],
    exclude: ['**/node_modules/**'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 90_000,
    teardownTimeout: 60_000,
    globalSetup: ['tests/chaos/global-setup.ts'],
  },
});
