import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig([
  {
    // The library: where the bin is and its version, and the error class.
    entry: { index: 'src/index.ts' },
    define: { __TSMW_RUNTIME_VERSION__: JSON.stringify(version) },
    format: ['esm'],
    target: 'node18',
    platform: 'node',
    // Class and function names survive bundling: errors print as TaskFailedError, not _TaskFailedError.
    keepNames: true,
    // Declarations are built from the entries alone, outside the composite project (tsc -b type-checks it).
    dts: { compilerOptions: { composite: false } },
    sourcemap: true,
    // Keep the bin, which the other configuration writes at the same time.
    clean: ['!tsmw-runtime.mjs'],
    removeNodeProtocol: false,
    splitting: true,
    treeshake: true,
  },
  {
    // The bin: ONE self-contained file, @tsmw/core and fast-xml-parser bundled in,
    // nothing but node: imports; minified (names kept), as it is parsed twice at every start
    // (the runtime and its task process).
    entry: { 'tsmw-runtime': 'src/main.ts' },
    minify: true,
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
    },
  },
]);
