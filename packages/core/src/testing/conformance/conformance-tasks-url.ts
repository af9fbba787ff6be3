import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * The URL of the conformance task module as shipped (plain JavaScript in `dist/`), so that
 * workers in other threads, processes or machines can load it.
 */
export function conformanceTasksUrl(): URL {
  const require = createRequire(import.meta.url);
  return pathToFileURL(require.resolve('@tsmw/core/testing/conformance-tasks'));
}
