import { defineConfig } from 'vitest/config';

// Tests import the workspace packages as they ship (their built `dist/`; turbo builds first),
// not through the `@tsmw/source` condition: vitest passes its resolve conditions to worker
// threads and child processes through execArgv, and those load real JavaScript.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The examples run as users run them, in child processes, several at once on a machine that
    // may be loaded: the timeout only guards against a hang.
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
