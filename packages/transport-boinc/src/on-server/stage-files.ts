import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dirHierDirectory } from './dir-hier.js';

/** Writes files into a BOINC download hierarchy (`download/<fan-out dir>/<name>`). */
export interface DownloadStager {
  /** The path a physical name has in the hierarchy. */
  pathOf(physicalName: string): string;
  /** Writes bytes under a physical name, atomically (temporary file, optional fsync, rename). */
  write(physicalName: string, data: Uint8Array): Promise<string>;
  /**
   * Writes the bytes of a file that no job references yet (a job's own envelope, staged before
   * its job is recorded and created) straight under its name, replacing what an interrupted
   * earlier attempt may have left there: no temporary name, no rename, and no fsync of its own
   * (`flushUnreferenced` makes a whole chunk durable at once). Only for names that nothing can
   * read until the caller hands them to BOINC.
   */
  writeUnreferenced(physicalName: string, data: Uint8Array): Promise<string>;
  /**
   * Makes files written by `writeUnreferenced` durable (when the stager is): one sync of the
   * download directory's file system (`sync --file-system`, Linux's syncfs) for the lot, or,
   * where that is not available, an fdatasync of each file.
   */
  flushUnreferenced(paths: readonly string[]): Promise<void>;
  /** Copies a file under a physical name, atomically. */
  copy(physicalName: string, sourcePath: string): Promise<string>;
}

export interface DownloadStagerOptions {
  readonly downloadDirectory: string;
  /** `uldl_dir_fanout` of the project's config.xml (0: no sub-directories). */
  readonly fanout: number;
  /** Make staged files durable before they are handed over (so that a power failure cannot leave a created job without its input). Default true. */
  readonly durable?: boolean;
  /**
   * Flushes the file system holding a directory to disk; false where it cannot (default: runs
   * `sync --file-system DIR`, coreutils 8.24 and later, on Linux).
   */
  readonly syncFileSystem?: (directory: string) => Promise<boolean>;
}

/** Concurrent fdatasyncs where the file system cannot be flushed at once. */
const flushConcurrency = 16;

function syncFileSystemWithCoreutils(directory: string): Promise<boolean> {
  if (process.platform !== 'linux') return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile('sync', ['--file-system', directory], { timeout: 600_000 }, (error) => resolve(error === null));
  });
}

/**
 * Stages files as BOINC's `stage_file` does (into the fan-out directory its `dir_hier_path`
 * names), but in-process: a batch of 10,000 envelopes is 10,000 writes, not 10,000 processes.
 * A file is complete under its name or not there: it is written to a hidden temporary name in
 * the same directory and renamed.
 */
export function createDownloadStager(options: DownloadStagerOptions): DownloadStager {
  const durable = options.durable ?? true;
  const syncFileSystem = options.syncFileSystem ?? syncFileSystemWithCoreutils;
  let fileSystemSyncWorks = true;
  const madeDirectories = new Set<string>();
  const pathOf = (physicalName: string): string => join(options.downloadDirectory, dirHierDirectory(physicalName, options.fanout), physicalName);
  const prepare = async (path: string): Promise<void> => {
    const directory = dirname(path);
    if (!madeDirectories.has(directory)) {
      await mkdir(directory, { recursive: true });
      madeDirectories.add(directory);
    }
  };
  const temporaryFor = async (path: string): Promise<string> => {
    await prepare(path);
    return join(dirname(path), `.${randomBytes(6).toString('hex')}.tsmw-tmp`);
  };
  const place = async (temporary: string, path: string): Promise<string> => {
    try {
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return path;
  };
  return {
    pathOf,
    async write(physicalName, data) {
      const path = pathOf(physicalName);
      const temporary = await temporaryFor(path);
      const handle = await open(temporary, 'wx', 0o644);
      try {
        await handle.writeFile(data);
        if (durable) await handle.datasync();
      } catch (error) {
        await handle.close();
        await rm(temporary, { force: true });
        throw error;
      }
      await handle.close();
      return place(temporary, path);
    },
    async writeUnreferenced(physicalName, data) {
      const path = pathOf(physicalName);
      await prepare(path);
      const handle = await open(path, 'w', 0o644);
      try {
        await handle.writeFile(data);
      } catch (error) {
        await handle.close();
        await rm(path, { force: true });
        throw error;
      }
      await handle.close();
      return path;
    },
    async flushUnreferenced(paths) {
      if (!durable || paths.length === 0) return;
      // One flush of the file system costs about what one fdatasync does; a chunk has a thousand files.
      if (fileSystemSyncWorks) {
        if (await syncFileSystem(options.downloadDirectory)) return;
        fileSystemSyncWorks = false;
      }
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < paths.length) {
          const handle = await open(paths[next++]!, 'r');
          try {
            await handle.datasync();
          } finally {
            await handle.close();
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(flushConcurrency, paths.length) }, worker));
    },
    async copy(physicalName, sourcePath) {
      const path = pathOf(physicalName);
      const temporary = await temporaryFor(path);
      try {
        await copyFile(sourcePath, temporary);
        if (durable) {
          const handle = await open(temporary, 'r');
          try {
            await handle.datasync();
          } finally {
            await handle.close();
          }
        }
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
      return place(temporary, path);
    },
  };
}
