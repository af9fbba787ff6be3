import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { copyFile, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseJobName, parseOutputFileName } from '../job-name.js';
import { tsmwProjectLayout, type TsmwProjectLayout } from '../project/tsmw-project-layout.js';
import { findProjectHome } from './find-project-home.js';

/** What the transport finds in an inbox for a failed job: `<job>.error`, JSON. */
export interface InboxErrorRecord {
  readonly format: 1;
  /** The job (workunit) name. */
  readonly job: string;
  /** `missing-output`: the assimilator found no output file; `job-failed`: BOINC's error mask. */
  readonly kind: 'job-failed' | 'missing-output';
  readonly errorMask: number;
  readonly workunitId?: number;
  readonly stderr?: string;
  readonly detail?: string;
  readonly at: string;
}

export interface AssimilatorIo {
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** The program's own file (to find the project it is installed in). */
  readonly programPath?: string;
}

/** Exit statuses: 0 done (BOINC marks the workunit assimilated), 1 a transient failure (BOINC runs it again), 2 misuse. */
export const assimilatorExit = { done: 0, transient: 1, usage: 2 } as const;

const usage =
  'usage: tsmw_assimilator [--project DIR] WU_ID FILE...\n' +
  '       tsmw_assimilator [--project DIR] --error ERRMASK WU_NAME WU_ID BATCH\n' +
  "(BOINC's script_assimilator runs it from the project's tmp_HOST directory: --app APP --script tsmw_assimilator)\n";

/**
 * tsmw's assimilator, run by BOINC's `script_assimilator` in its default forms:
 * - `WU_ID FILE...`: the canonical result's output files. Each is moved (a rename: atomic) into the
 *   inbox of the job's batch as `<job>.out`, read back from the file's name (`<job>_<n>_<i>` or
 *   `<job>_<n>_r<random>_<i>`). Nothing is written outside the inbox: the batch and job come only
 *   from a name that parses as a tsmw job name, and a file that is not one goes to
 *   `<project>/tsmw/unrouted/` under a name made from the workunit id.
 * - `--error ERRMASK WU_NAME WU_ID BATCH`: the job failed; `<job>.error` (JSON) is written into
 *   the inbox atomically.
 * Run again for the same workunit (BOINC does after a failure), it finds its earlier work done.
 * Any filesystem failure exits 1 so that BOINC runs it again; the transport is the inbox's only
 * reader.
 */
export async function runAssimilator(argv: readonly string[], io: AssimilatorIo): Promise<number> {
  const args = [...argv];
  let projectOption: string | undefined;
  if (args[0] === '--project') {
    projectOption = args[1];
    args.splice(0, 2);
  }
  const projectHome = findProjectHome(projectOption, io);
  if (projectHome === undefined) {
    io.stderr(`tsmw_assimilator: cannot find the BOINC project (give --project DIR, or set TSMW_PROJECT_HOME)\n${usage}`);
    return assimilatorExit.usage;
  }
  const layout = tsmwProjectLayout(projectHome);
  try {
    if (args[0] === '--error') return await assimilateError(args.slice(1), layout, io);
    return await assimilateOutputs(args, layout, io);
  } catch (error) {
    io.stderr(`tsmw_assimilator: ${(error as Error).message} (BOINC will run the assimilator again)\n`);
    return assimilatorExit.transient;
  }
}

async function assimilateOutputs(args: readonly string[], layout: TsmwProjectLayout, io: AssimilatorIo): Promise<number> {
  const [workunitIdText, ...files] = args;
  if (workunitIdText === undefined || !/^\d+$/.test(workunitIdText) || files.length === 0) {
    io.stderr(`tsmw_assimilator: expected a workunit id and its output files, got ${JSON.stringify(args)}\n${usage}`);
    return assimilatorExit.usage;
  }
  const routed: Array<{ path: string; jobName: string; batch: string }> = [];
  const unrouted: Array<{ path: string; index: number }> = [];
  files.forEach((path, index) => {
    const parts = parseOutputFileName(basename(path));
    if (parts !== undefined && parts.fileIndex === 0 && existsSync(layout.batchDirectory(parts.batch))) routed.push({ path, jobName: parts.jobName, batch: parts.batch });
    else unrouted.push({ path, index });
  });
  for (const { path, jobName, batch } of routed) {
    const inbox = layout.batchInbox(batch);
    await mkdir(inbox, { recursive: true });
    const target = join(inbox, `${jobName}.out`);
    const moved = await moveRegularFile(path, target);
    if (moved === 'missing') {
      if (existsSync(target) || existsSync(join(layout.batchResultsDirectory(batch), `${jobName}.out`))) continue; // an earlier run moved it
      await writeErrorRecord(inbox, {
        format: 1,
        job: jobName,
        kind: 'missing-output',
        errorMask: 0,
        workunitId: Number(workunitIdText),
        detail: `the output file ${basename(path)} is not on the server`,
        at: new Date().toISOString(),
      });
      io.stderr(`tsmw_assimilator: ${path} does not exist; job ${jobName} is recorded as failed\n`);
    } else if (moved === 'not-a-file') {
      await writeErrorRecord(inbox, {
        format: 1,
        job: jobName,
        kind: 'missing-output',
        errorMask: 0,
        workunitId: Number(workunitIdText),
        detail: `the output ${basename(path)} is not a regular file`,
        at: new Date().toISOString(),
      });
      io.stderr(`tsmw_assimilator: ${path} is not a regular file; job ${jobName} is recorded as failed\n`);
    }
  }
  for (const { path, index } of unrouted) {
    await mkdir(layout.unroutedDirectory, { recursive: true });
    const target = join(layout.unroutedDirectory, `wu${workunitIdText}_${index}`);
    const moved = await moveRegularFile(path, target);
    if (moved === 'moved') io.stderr(`tsmw_assimilator: ${basename(path)} is not the output of a tsmw job of a batch on this project; kept as ${target}\n`);
  }
  return assimilatorExit.done;
}

async function assimilateError(args: readonly string[], layout: TsmwProjectLayout, io: AssimilatorIo): Promise<number> {
  const [maskText, second, third] = args;
  if (maskText === undefined || !/^-?\d+$/.test(maskText) || second === undefined) {
    io.stderr(`tsmw_assimilator: expected --error ERRMASK WU_NAME WU_ID BATCH, got ${JSON.stringify(['--error', ...args])}\n${usage}`);
    return assimilatorExit.usage;
  }
  const errorMask = Number(maskText);
  // Older BOINC servers run `NAME --error ERRMASK WU_ID` (no workunit name): such a failure
  // cannot be routed to its batch.
  const oldForm = args.length === 2 && /^\d+$/.test(second);
  const jobName = oldForm ? undefined : second;
  const workunitId = oldForm ? Number(second) : third !== undefined && /^\d+$/.test(third) ? Number(third) : undefined;
  const parts = jobName === undefined ? undefined : parseJobName(jobName);
  const record: InboxErrorRecord = {
    format: 1,
    job: jobName ?? '',
    kind: 'job-failed',
    errorMask,
    ...(workunitId === undefined ? {} : { workunitId }),
    at: new Date().toISOString(),
  };
  if (parts === undefined || !existsSync(layout.batchDirectory(parts.batch))) {
    await mkdir(layout.unroutedDirectory, { recursive: true });
    const name = `wu${workunitId ?? 'unknown'}.error`;
    await writeJsonAtomically(join(layout.unroutedDirectory, name), record);
    const why = oldForm
      ? 'this BOINC server runs the assimilator without the workunit name on failure (--error ERRMASK WU_ID); upgrade the server to route failures'
      : `${JSON.stringify(jobName)} is not a tsmw job of a batch on this project`;
    io.stderr(`tsmw_assimilator: a failed workunit (error mask ${errorMask}) kept in ${layout.unroutedDirectory}/${name}: ${why}\n`);
    return assimilatorExit.done;
  }
  const inbox = layout.batchInbox(parts.batch);
  await mkdir(inbox, { recursive: true });
  await writeErrorRecord(inbox, { ...record, job: jobName! });
  return assimilatorExit.done;
}

async function writeErrorRecord(inbox: string, record: InboxErrorRecord): Promise<void> {
  await writeJsonAtomically(join(inbox, `${record.job}.error`), record);
}

async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tsmw-tmp`);
  const handle = await open(temporary, 'wx', 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(value)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

/**
 * Moves a regular file (never a symbolic link or anything else) to `target`: a rename, or on
 * another filesystem a copy to a temporary name beside the target, fsync, rename, then the
 * source removed. The target's directory is fsync'ed, so that BOINC marks the workunit done only
 * once the output is safely in the inbox.
 */
async function moveRegularFile(source: string, target: string): Promise<'moved' | 'missing' | 'not-a-file'> {
  let info;
  try {
    info = await lstat(source);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  if (!info.isFile()) return 'not-a-file';
  try {
    await rename(source, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    const temporary = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tsmw-tmp`);
    try {
      await copyFile(source, temporary, constants.COPYFILE_EXCL);
      const handle = await open(temporary, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temporary, target);
    } catch (copyError) {
      await rm(temporary, { force: true });
      throw copyError;
    }
    await rm(source, { force: true });
  }
  await syncDirectory(dirname(target));
  return 'moved';
}

async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on a directory (EINVAL/EISDIR); the rename itself stands.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await handle?.close();
  }
}
