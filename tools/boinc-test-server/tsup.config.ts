import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'fake-project-bin': 'src/fake-project-bin.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  // Class and function names survive bundling: errors print as TaskFailedError, not _TaskFailedError.
  keepNames: true,
  dts: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
});
