import { pathToFileURL } from 'node:url';

/**
 * The URL of the module whose code called `below` (from the call stack), or undefined when it
 * cannot be told (code from `eval`, a REPL, a stack without file names). Used once per task
 * definition and once per master, never per task.
 */
export function callerModuleUrl(below: Function): string | undefined {
  const original = Error.prepareStackTrace;
  const originalLimit = Error.stackTraceLimit;
  try {
    Error.prepareStackTrace = (_error, callSites) => callSites;
    Error.stackTraceLimit = 10;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, below);
    const sites = holder.stack;
    if (!Array.isArray(sites)) return undefined;
    for (const site of sites as NodeJS.CallSite[]) {
      const file = site.getFileName?.() ?? undefined;
      if (file === undefined || file === null || file.startsWith('node:')) continue;
      if (/^[a-z][a-z0-9+.-]*:/i.test(file) && !/^[a-z]:[\\/]/i.test(file)) return file; // file:, data:, http: URLs
      return pathToFileURL(file).href;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    Error.prepareStackTrace = original;
    Error.stackTraceLimit = originalLimit;
  }
}

/** The module URL without a query or a hash: the file it was loaded from. */
export function moduleFileUrl(url: string): string {
  const cut = url.search(/[?#]/);
  return cut === -1 ? url : url.slice(0, cut);
}
