import { createHash } from 'node:crypto';

/**
 * THE identity of a task module's code: the sha256 (lowercase hex) of the bytes that run.
 *
 * Every envelope carries it and every worker checks it, so it is computed here and nowhere
 * else. What "the bytes that run" are depends on how the code reaches the workers:
 * - workers that load the module from this machine's disk (the local transport) run the entry
 *   file the master loaded: the master hashes that file;
 * - a transport that ships code (BOINC) runs an artifact of its own, the task module bundled
 *   with its imports into one file: it hashes that bundle and tells the master
 *   (`TransportStartResultV1.taskModuleHash`), and the BOINC client runtime hashes the same
 *   file in its slot before it runs a task.
 */
export function hashTaskModule(code: Uint8Array | string): string {
  return createHash('sha256').update(code).digest('hex');
}

/** Whether a string has the form `hashTaskModule` produces. */
export function isTaskModuleHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}
