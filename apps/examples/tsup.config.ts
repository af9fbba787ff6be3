import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    cli: 'src/cli.ts',
    // Task modules are separate files: workers load them by URL.
    'monte-pi/tasks': 'src/monte-pi/tasks.ts',
    'prime-finder/tasks': 'src/prime-finder/tasks.ts',
    'mandelbrot/tasks': 'src/mandelbrot/tasks.ts',
    'word-count/tasks': 'src/word-count/tasks.ts',
    'checkpoint-demo/tasks': 'src/checkpoint-demo/tasks.ts',
    'null-test/tasks': 'src/null-test/tasks.ts',
    // The third-party transport example: its worker is loaded by URL, like a task module.
    'transport-plugin/create-single-thread-transport': 'src/transport-plugin/create-single-thread-transport.ts',
    'transport-plugin/single-thread-worker': 'src/transport-plugin/single-thread-worker.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  // Declarations are built from the entries alone, outside the composite project (tsc -b type-checks it).
  dts: {
    compilerOptions: { composite: false },
    entry: {
      'monte-pi/tasks': 'src/monte-pi/tasks.ts',
      'transport-plugin/create-single-thread-transport': 'src/transport-plugin/create-single-thread-transport.ts',
    },
  },
  sourcemap: true,
  clean: true,
  // Each entry self-contained, so that `new URL('./monte-pi/tasks.js', import.meta.url)` in the
  // bundled cli.js names the file the workers load.
  splitting: false,
});
