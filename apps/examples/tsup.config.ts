import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    cli: 'src/cli.ts',
    // Task modules are separate files: workers load them by URL.
    'monte-pi/tasks': 'src/monte-pi/tasks.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: { 'monte-pi/tasks': 'src/monte-pi/tasks.ts' } },
  sourcemap: true,
  clean: true,
  // Each entry self-contained, so that `new URL('./monte-pi/tasks.js', import.meta.url)` holds.
  splitting: false,
  banner: { js: '' },
});
