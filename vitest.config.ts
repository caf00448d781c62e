import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native code, child processes and an npm install: generous limits, one file per process.
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
