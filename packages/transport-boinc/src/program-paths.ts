import { fileURLToPath } from 'node:url';
import type { TsmwProgram } from './project/tsmw-project-layout.js';

const files: Record<TsmwProgram, string> = {
  assimilator: 'tsmw-assimilator.mjs',
  validatorInit: 'tsmw-validate.mjs',
  validatorCompare: 'tsmw-compare.mjs',
};

/**
 * The built programs tsmw-setup installs into a project (each ONE self-contained ES module that
 * imports nothing but Node's built-in modules; run them with any Node >= 18):
 * - `assimilator`: `dist/bin/tsmw-assimilator.mjs`, behind `bin/tsmw_assimilator`;
 * - `validatorInit`: `dist/bin/tsmw-validate.mjs`, behind `bin/tsmw_validate`;
 * - `validatorCompare`: `dist/bin/tsmw-compare.mjs`, behind `bin/tsmw_compare`.
 * Copied to `<project>/tsmw/programs/`, the assimilator finds its project from there; a launcher
 * may also pass `--project DIR` as the first arguments.
 */
export function tsmwProgramPaths(): Record<TsmwProgram, string> {
  // From dist/index.js and from src/*.ts alike.
  const base = new URL('../dist/bin/', import.meta.url);
  return {
    assimilator: fileURLToPath(new URL(files.assimilator, base)),
    validatorInit: fileURLToPath(new URL(files.validatorInit, base)),
    validatorCompare: fileURLToPath(new URL(files.validatorCompare, base)),
  };
}
