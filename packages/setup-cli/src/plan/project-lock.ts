import { readFileSync, rmdirSync, rmSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { ProjectLockError } from '../errors/project-lock-error.js';

interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly command: string;
  readonly startedAt: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readRecord(path: string): Promise<LockRecord | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as Partial<LockRecord>;
    if (typeof value.pid === 'number' && typeof value.host === 'string') return value as LockRecord;
  } catch {
    // unreadable or half-written: treated as held (see below)
  }
  return undefined;
}

/**
 * Runs `body` holding the project's lock file (created exclusively). Another run's lock is
 * respected unless its process is gone from this host (a crashed run); then it is taken over.
 * On SIGINT/SIGTERM the lock is released before the process ends.
 */
export async function withProjectLock<T>(lockPath: string, command: string, body: () => Promise<T>): Promise<T> {
  // The directories made for the lock are taken away again if nothing else was put in them:
  // a run that fails before writing leaves the project as it found it.
  const createdFrom = await mkdir(dirname(lockPath), { recursive: true });
  const record: LockRecord = { pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString() };
  const text = `${JSON.stringify(record)}\n`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const handle = await open(lockPath, 'wx', 0o644);
      try {
        await handle.writeFile(text);
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await readRecord(lockPath);
      if (attempt === 0 && holder !== undefined && holder.host === hostname() && !isAlive(holder.pid)) {
        await rm(lockPath, { force: true });
        continue;
      }
      const who = holder === undefined ? 'another run' : `${holder.command} (process ${holder.pid} on ${holder.host}, since ${holder.startedAt})`;
      throw new ProjectLockError(`the project is locked by ${who}: ${lockPath}. Wait for it to finish; if no tsmw-setup runs, delete that file`);
    }
  }
  const release = (): void => {
    try {
      if (readFileSync(lockPath, 'utf8') === text) rmSync(lockPath, { force: true });
    } catch {
      // already gone
    }
    if (createdFrom === undefined) return;
    for (let directory = dirname(lockPath); directory.length >= createdFrom.length; directory = dirname(directory)) {
      try {
        rmdirSync(directory);
      } catch {
        break; // not empty: something was written there
      }
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    release();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    release();
  }
}
