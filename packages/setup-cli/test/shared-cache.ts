import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the tests that need a real Node.js 24 binary keep the download: `$TSMW_CACHE_DIR`, else
 * `node_modules/.cache/tsmw` at the repository's root, so that one CI job downloads it once.
 */
export function sharedNodeCache(): string {
  const explicit = process.env['TSMW_CACHE_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  return join(fileURLToPath(new URL('../../..', import.meta.url)), 'node_modules', '.cache', 'tsmw');
}
