import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineConfig } from 'tsup';

const require = createRequire(import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };
// msgpackr's pure-JavaScript build. Its `node` export would try to load the native accelerator
// (msgpackr-extract) with a runtime require, which a volunteer's host does not have.
const msgpackrPureJs = join(dirname(require.resolve('msgpackr')), '..', 'index.js');

export default defineConfig([
  {
    // The library: the slot, channel, exit-file and checkpoint building blocks.
    entry: { index: 'src/index.ts' },
    format: ['esm'],
    target: 'node18',
    platform: 'node',
    // Class and function names survive bundling: errors print as TaskFailedError, not _TaskFailedError.
    keepNames: true,
    dts: true,
    sourcemap: true,
    // Keep the bin, which the other configuration writes at the same time.
    clean: ['!tsmw-runtime.mjs'],
    removeNodeProtocol: false,
    splitting: true,
    treeshake: true,
  },
  {
    // The bin: ONE self-contained file, @tsmw/core and msgpackr bundled in, nothing but node: imports.
    entry: { 'tsmw-runtime': 'src/main.ts' },
    format: ['esm'],
    target: 'node18',
    platform: 'node',
    // Class and function names survive bundling: errors print as TaskFailedError, not _TaskFailedError.
    keepNames: true,
    outExtension: () => ({ js: '.mjs' }),
    dts: false,
    sourcemap: false,
    clean: false,
    splitting: false,
    treeshake: true,
    noExternal: [/.*/],
    removeNodeProtocol: false,
    define: { __TSMW_RUNTIME_VERSION__: JSON.stringify(version) },
    esbuildOptions(options) {
      options.conditions = ['@tsmw/source'];
      options.alias = { msgpackr: msgpackrPureJs };
    },
  },
]);
