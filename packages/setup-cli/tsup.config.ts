import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  // Class and function names survive bundling: errors print as TaskFailedError, not _TaskFailedError.
  keepNames: true,
  // Declarations are built from the entries alone, outside the composite project (tsc -b type-checks it).
  dts: { compilerOptions: { composite: false } },
  sourcemap: true,
  clean: true,
});
