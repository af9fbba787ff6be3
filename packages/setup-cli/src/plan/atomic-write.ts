import { randomBytes } from 'node:crypto';
import { chmod, copyFile, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * A temporary name beside `path`. It starts with a dot: BOINC's `update_versions` skips such
 * names, so a temporary file left by a crash is never published as part of an app version.
 */
export function temporaryPathBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename. */
export async function writeFileAtomic(path: string, bytes: Uint8Array, mode: number): Promise<void> {
  const temporary = temporaryPathBeside(path);
  try {
    const handle = await open(temporary, 'wx', mode);
    try {
      await handle.writeFile(bytes);
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Copies `source` to `path` atomically (temporary copy in the same directory, then rename). */
export async function copyFileAtomic(source: string, path: string, mode: number): Promise<void> {
  const temporary = temporaryPathBeside(path);
  try {
    await copyFile(source, temporary);
    await chmod(temporary, mode);
    const handle = await open(temporary, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
