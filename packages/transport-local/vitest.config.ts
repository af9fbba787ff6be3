import { defineConfig } from 'vitest/config';

// As in the other packages: tests import @tsmw/core as it ships (its built dist/), since worker
// threads and child processes load real JavaScript. (The pool also drops the `@tsmw/source`
// condition from the flags it passes to workers, should a runner set it.)
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
