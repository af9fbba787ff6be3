import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tsmw/core';
import { processStartTime } from '../store/batch-store.js';

/** `create_work` reads stdin lines with a 4096-byte buffer: a longer line is refused. */
export const maxCreateWorkLineBytes = 4095;

const safeToken = /^[A-Za-z0-9_.-]+$/;

/**
 * One job's line for `create_work --stdin`: `--wu_name NAME PHYSICAL_NAME...`. BOINC splits the
 * line on spaces with `'`/`"` quoting and no escapes, so every token must be free of them: tsmw's
 * names are `[A-Za-z0-9_.-]` only, and anything else is refused.
 */
export function formatCreateWorkLine(jobName: string, physicalNames: readonly string[]): string {
  for (const token of [jobName, ...physicalNames]) {
    if (!safeToken.test(token)) throw new InvalidArgumentError(`${JSON.stringify(token)} cannot be written on a create_work line`);
  }
  const line = ['--wu_name', jobName, ...physicalNames].join(' ');
  if (Buffer.byteLength(line) + 1 > maxCreateWorkLineBytes) {
    throw new InvalidArgumentError(`The create_work line of job ${jobName} would be ${Buffer.byteLength(line) + 1} bytes; BOINC reads at most ${maxCreateWorkLineBytes} (too many data files for one task)`);
  }
  return line;
}

export interface CreateWorkRequest {
  readonly projectHome: string;
  readonly app: string;
  /** Batch-level arguments (`--wu_template T --min_quorum 1 ...`), without `--appname` and `--stdin`. */
  readonly arguments: readonly string[];
  /** One line per job. */
  readonly lines: readonly string[];
  /** Where the run's stdin and log files are kept while it runs. */
  readonly workDirectory: string;
  /** Called with the process id once it runs. */
  readonly onSpawn?: (pid: number) => void;
}

export interface CreateWorkRun {
  /** The exit status; null when it was killed by a signal or could not be started. */
  readonly exitStatus: number | null;
  readonly signal: string | null;
  /** What it printed (stdout and stderr, the last 64 KiB). */
  readonly output: string;
  /** It failed because a workunit name exists already ("Duplicate entry" from the database). */
  readonly duplicate: boolean;
}

/**
 * Runs `bin/create_work --appname APP ARGS --stdin` in the project directory, its stdin read from
 * a file and its output written to one, in a process group of its own: a master that dies (or a
 * Ctrl-C in its terminal) neither truncates its input nor kills it half-way, so a chunk is created
 * whole or not at all as far as `create_work` is concerned.
 */
export async function runCreateWork(request: CreateWorkRequest): Promise<CreateWorkRun> {
  await mkdir(request.workDirectory, { recursive: true });
  const base = join(request.workDirectory, `create-work-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`);
  const stdinPath = `${base}.stdin`;
  const logPath = `${base}.log`;
  await writeFile(stdinPath, request.lines.map((line) => `${line}\n`).join(''), { mode: 0o600 });
  const stdin = await open(stdinPath, 'r');
  const log = await open(logPath, 'w', 0o600);
  try {
    const program = join(request.projectHome, 'bin', 'create_work');
    const outcome = await new Promise<{ code: number | null; signal: string | null; error?: Error }>((resolve) => {
      let child;
      try {
        child = spawn(program, ['--appname', request.app, ...request.arguments, '--stdin'], {
          cwd: request.projectHome,
          stdio: [stdin.fd, log.fd, log.fd],
          detached: true,
        });
      } catch (error) {
        resolve({ code: null, signal: null, error: error as Error });
        return;
      }
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('spawn', () => {
        if (child.pid !== undefined) request.onSpawn?.(child.pid);
      });
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    await log.close().catch(() => {});
    let output = await readTail(logPath, 64 * 1024);
    if (outcome.error !== undefined) output = `cannot run ${program}: ${outcome.error.message}\n${output}`;
    return {
      exitStatus: outcome.code,
      signal: outcome.signal,
      output,
      duplicate: outcome.code !== 0 && /Duplicate entry/i.test(output),
    };
  } finally {
    await stdin.close().catch(() => {});
    await log.close().catch(() => {});
    await rm(stdinPath, { force: true });
    await rm(logPath, { force: true });
  }
}

async function readTail(path: string, bytes: number): Promise<string> {
  try {
    const size = (await stat(path)).size;
    if (size <= bytes) return await readFile(path, 'utf8');
    const handle = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(bytes);
      await handle.read(buffer, 0, bytes, size - bytes);
      return `...${buffer.toString('utf8')}`;
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

/**
 * Waits until a process (recorded with its start time) is gone: a `create_work` that an earlier
 * master started may still run after that master died. Gives up after `timeoutMs`.
 */
export async function waitForProcessExit(pid: number, startTime: string | undefined, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const current = processStartTime(pid);
    if (current === undefined || (startTime !== undefined && current !== startTime && current !== 'alive')) return true;
    if (Date.now() >= until) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
