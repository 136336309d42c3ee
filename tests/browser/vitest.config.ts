import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Runs only the browser tests: `pnpm exec vitest run --config tests/browser/vitest.config.ts`.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['tests/browser/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 60000,
    hookTimeout: 60000,
    pool: 'forks',
  },
});
