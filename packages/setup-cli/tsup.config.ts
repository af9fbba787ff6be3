import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // The library: the operations behind the commands, for scripts and tests.
    entry: { index: 'src/index.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    // Class and function names survive bundling: errors print as ProjectFileError, not _ProjectFileError.
    keepNames: true,
    // Declarations are built from the entries alone, outside the composite project (tsc -b type-checks it).
    dts: { compilerOptions: { composite: false } },
    sourcemap: true,
    clean: ['!cli.js', '!cli.js.map'],
  },
  {
    // The bin: `tsmw-setup` (src/cli.ts starts with a shebang; tsup keeps it and sets the exec bit).
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    keepNames: true,
    dts: false,
    sourcemap: true,
    clean: false,
  },
]);
