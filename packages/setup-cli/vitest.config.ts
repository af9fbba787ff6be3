import { defineConfig } from 'vitest/config';

// Tests import the workspace packages as they ship (their built `dist/`; turbo builds first).
// The CLI tests run the built bin (`dist/cli.js`) as a user would.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
