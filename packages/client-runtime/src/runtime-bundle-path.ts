import { fileURLToPath } from 'node:url';

/**
 * The path of the built runtime, `dist/tsmw-runtime.mjs`: one self-contained file (core,
 * fast-xml-parser inside, no imports but Node's) to ship as the main program of a
 * BOINC app version.
 */
export function runtimeBundlePath(): string {
  // From dist/index.js and from src/*.ts alike.
  return fileURLToPath(new URL('../dist/tsmw-runtime.mjs', import.meta.url));
}
