import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'testing/index': 'src/testing/index.ts',
    // Plain JavaScript that workers in other threads or processes can load; it imports the
    // package by name, so it shares the one copy of core.
    'testing/conformance-tasks': 'src/testing/conformance/conformance-tasks.ts',
    // The durable reference transport without the suite (and without vitest): for child processes.
    'testing/file-transport': 'src/testing/file-transport.ts',
    // The master the durable group kills, run in a child process.
    'testing/durable-child': 'src/testing/conformance/durable-child.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  // Class and function names survive bundling: errors print as TaskFailedError, not _TaskFailedError.
  keepNames: true,
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  treeshake: true,
  external: ['vitest', '@tsmw/core'],
});
