import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    // The worker entries: loaded at run time by path, relative to the built module
    // (see worker-entry-url.ts), by worker threads and child processes.
    'thread-worker': 'src/thread-worker.ts',
    'process-worker': 'src/process-worker.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  // Class and function names survive bundling: errors print as TaskFailedError, not _TaskFailedError.
  keepNames: true,
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  external: ['@tsmw/core'],
});
