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
  // Class and function names survive bundling: errors print as TaskFailedError, not _TaskFailedError.
  keepNames: true,
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
  // The CLI and the workers must share ONE copy of each task module: a master accepts only the
  // task module's own definitions (a bundled copy inside cli.js would be other code). With
  // splitting, dist/monte-pi/tasks.js and cli.js import the same module.
  splitting: true,
});
