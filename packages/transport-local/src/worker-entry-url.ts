/**
 * Where a worker entry (`thread-worker.js`, `process-worker.js`) is: beside the built module
 * that asks. When this module runs from its TypeScript source (tests and type checks resolve
 * the `@tsmw/source` condition), the entries are taken from the package's `dist/`, because a
 * worker thread or child process loads plain JavaScript.
 */
export function workerEntryUrl(name: 'thread-worker' | 'process-worker'): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL(`../dist/${name}.js`, here) : new URL(`./${name}.js`, here);
}
