import { defineConfig } from 'tsup';

// The `tsmw-runtime` bin (src/main.ts -> dist/tsmw-runtime.mjs, with a shebang) is added with main.ts.
export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  target: 'node18',
  platform: 'node',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
});
