import { defineConfig } from 'vitest/config';

// As in the other packages: tests import the workspace packages as they ship (their built
// dist/; turbo builds first). The runtime's own tests run its built bundle, rebuilt when stale.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
