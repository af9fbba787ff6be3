import { defineConfig } from 'vitest/config';

// Tests import the workspace packages as they ship (their built `dist/`; turbo builds first),
// not through the `@tsmw/source` condition: vitest passes its resolve conditions to worker
// threads and child processes through execArgv, and those load real JavaScript.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The long files here (the fake-project conformance run, the killed master, the real client)
    // mostly wait on other processes: two at a time instead of one after another.
    maxWorkers: 2,
  },
});
