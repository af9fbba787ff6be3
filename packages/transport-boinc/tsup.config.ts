import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'tsup';

const require = createRequire(import.meta.url);
// msgpackr's pure-JavaScript build: the programs run on a BOINC server without node_modules, and
// msgpackr's `node` export would try to load its native accelerator.
const msgpackrPureJs = join(dirname(require.resolve('msgpackr')), '..', 'index.js');

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    // Class and function names survive bundling: errors print as BatchStoreError, not _BatchStoreError.
    keepNames: true,
    dts: true,
    sourcemap: true,
    clean: ['!bin/**'],
  },
  {
    // The programs installed into a project: each ONE self-contained file, nothing but node: imports.
    entry: {
      'bin/tsmw-assimilator': 'src/bin/tsmw-assimilator.ts',
      'bin/tsmw-validate': 'src/bin/tsmw-validate.ts',
      'bin/tsmw-compare': 'src/bin/tsmw-compare.ts',
    },
    format: ['esm'],
    target: 'node18',
    platform: 'node',
    outExtension: () => ({ js: '.mjs' }),
    dts: false,
    sourcemap: false,
    clean: false,
    splitting: false,
    treeshake: true,
    noExternal: [/.*/],
    removeNodeProtocol: false,
    keepNames: true,
    esbuildOptions(options) {
      options.conditions = ['@tsmw/source'];
      options.alias = { msgpackr: msgpackrPureJs };
    },
  },
]);
