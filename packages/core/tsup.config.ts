import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    // Plain JavaScript that workers in other threads or processes can load; it imports the
    // package by name, so it shares the one copy of core.
    'testing/conformance-tasks': 'src/testing/conformance/conformance-tasks.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  // Declarations are built from the entries alone, outside the composite project (tsc -b type-checks it).
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  external: ['vitest', '@tsmw/core'],
});
