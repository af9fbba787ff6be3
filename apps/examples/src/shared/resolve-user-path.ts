import { resolve } from 'node:path';

/**
 * Resolves a path the user typed. `npm run example -- ...` runs in the repository's root, so a
 * relative path is taken from where npm was started (INIT_CWD), as the user means it.
 */
export function resolveUserPath(path: string, environment: NodeJS.ProcessEnv = process.env): string {
  return resolve(environment['INIT_CWD'] ?? process.cwd(), path);
}
