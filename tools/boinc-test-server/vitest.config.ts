import { defineConfig } from 'vitest/config';

// As in the other packages: tests import the workspace packages as they ship (their built
// dist/; turbo builds first), the client-runtime e2e its built bundle.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
