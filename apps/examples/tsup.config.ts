import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    cli: 'src/cli.ts',
    // Task modules are separate files: workers load them by URL.
    'monte-pi/tasks': 'src/monte-pi/tasks.ts',
    // The third-party transport example: its worker is loaded by URL, like a task module.
    'transport-plugin/create-single-thread-transport': 'src/transport-plugin/create-single-thread-transport.ts',
    'transport-plugin/single-thread-worker': 'src/transport-plugin/single-thread-worker.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  // Class and function names survive bundling: errors print as TaskFailedError, not _TaskFailedError.
  keepNames: true,
  dts: {
    entry: {
      'monte-pi/tasks': 'src/monte-pi/tasks.ts',
      'transport-plugin/create-single-thread-transport': 'src/transport-plugin/create-single-thread-transport.ts',
    },
  },
  sourcemap: true,
  clean: true,
  // Each entry self-contained, so that `new URL('./monte-pi/tasks.js', import.meta.url)` holds.
  splitting: false,
});
