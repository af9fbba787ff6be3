import { createHash } from 'node:crypto';
import { assertBatchName, batchNamePattern, InvalidArgumentError } from '@tsmw/core';

/**
 * BOINC job (workunit) names made by tsmw:
 *
 *     tsmw_<batch>_<key token>_a<attempt>
 *
 * - `<batch>` is the master's batch name (letters, digits, `_`, `.`, `-`);
 * - `<key token>` names the task within the batch: `k<key>` when the key is 1 to 64 letters,
 *   digits, `.` or `-` (`map` keys such as `0`, `17` stay readable: `k17`); `h<32 hex>` (the first
 *   128 bits of the key's sha256) for any other key; `t<task id>` (or `u<32 hex>`) for a task
 *   submitted without a key;
 * - `<attempt>` is the task's attempt number (1 for the first run; a retry is a new workunit).
 *
 * The same batch, key and attempt give the same name on every run, so a master started again
 * never creates a second workunit for a key: BOINC's workunit names are unique and a rerun of
 * `create_work` for a name that exists fails. Names use only `[A-Za-z0-9_.-]`, are at most
 * 5 + 64 + 1 + 65 + 8 = 143 characters, and can be read back from an output file's name
 * (`<job>_<n>_<i>` or `<job>_<n>_r<random>_<i>`): the token and attempt are the last two
 * `_`-separated parts, so a batch name with `_` in it stays unambiguous.
 */
export interface JobNameParts {
  readonly batch: string;
  readonly keyToken: string;
  readonly attempt: number;
}

const directKeyPattern = /^[A-Za-z0-9.-]{1,64}$/;
const keyTokenPattern = /^(?:k[A-Za-z0-9.-]{1,64}|h[0-9a-f]{32}|t[A-Za-z0-9.-]{1,64}|u[0-9a-f]{32})$/;
const jobNamePattern = /^tsmw_(.+)_((?:k|t)[A-Za-z0-9.-]{1,64}|(?:h|u)[0-9a-f]{32})_a([1-9][0-9]{0,5})$/;
const outputNamePattern = /^(tsmw_.+_(?:(?:k|t)[A-Za-z0-9.-]{1,64}|(?:h|u)[0-9a-f]{32})_a[1-9][0-9]{0,5})_(\d{1,6})(?:_r[0-9A-Za-z]{1,32})?_(\d{1,4})$/;
const maxAttempt = 999_999;

/** The key token of a task: from its key, or (no key) from its task id. */
export function jobKeyToken(key: string | undefined, taskId: string): string {
  if (key !== undefined) return directKeyPattern.test(key) ? `k${key}` : `h${shortHash(key)}`;
  return directKeyPattern.test(taskId) ? `t${taskId}` : `u${shortHash(taskId)}`;
}

/** The job name of a task attempt (see `JobNameParts`). */
export function formatJobName(batch: string, keyToken: string, attempt: number): string {
  assertBatchName(batch);
  if (!keyTokenPattern.test(keyToken)) throw new InvalidArgumentError(`${JSON.stringify(keyToken)} is not a job key token`);
  if (!Number.isSafeInteger(attempt) || attempt < 1 || attempt > maxAttempt) throw new InvalidArgumentError(`attempt must be a whole number from 1 to ${maxAttempt}, not ${attempt}`);
  return `tsmw_${batch}_${keyToken}_a${attempt}`;
}

/** Reads a job name back; `undefined` for anything tsmw did not make. */
export function parseJobName(name: string): JobNameParts | undefined {
  if (typeof name !== 'string' || name.length > 200) return undefined;
  const match = jobNamePattern.exec(name);
  if (match === null) return undefined;
  const [, batch, keyToken, attempt] = match as unknown as [string, string, string, string];
  if (!batchNamePattern.test(batch)) return undefined;
  return { batch, keyToken, attempt: Number(attempt) };
}

/** What an output file's physical name says: the job, the result's number and the file's index. */
export interface OutputFileNameParts extends JobNameParts {
  readonly jobName: string;
  readonly resultNumber: number;
  readonly fileIndex: number;
}

/**
 * Reads BOINC's physical name of an output file (`<job>_<n>_<i>`, or `<job>_<n>_r<random>_<i>`
 * as some servers write it); `undefined` for a name tsmw did not make, a path, or anything with
 * a character outside `[A-Za-z0-9_.-]`.
 */
export function parseOutputFileName(fileName: string): OutputFileNameParts | undefined {
  if (typeof fileName !== 'string' || fileName.length > 255 || !/^[A-Za-z0-9_.-]+$/.test(fileName)) return undefined;
  const match = outputNamePattern.exec(fileName);
  if (match === null) return undefined;
  const [, jobName, resultNumber, fileIndex] = match as unknown as [string, string, string, string];
  const parts = parseJobName(jobName);
  if (parts === undefined) return undefined;
  return { ...parts, jobName, resultNumber: Number(resultNumber), fileIndex: Number(fileIndex) };
}

/** Physical name of a task's staged envelope: `<job>.in`. */
export function envelopeFileName(jobName: string): string {
  return `${jobName}.in`;
}

/** Physical name of a data file staged once per batch, named by its content: `tsmw_<batch>_f<sha256 hex, 40>`. */
export function dataFileName(batch: string, contentSha256: string): string {
  assertBatchName(batch);
  if (!/^[0-9a-f]{64}$/.test(contentSha256)) throw new InvalidArgumentError('dataFileName needs a sha256 in lowercase hex');
  return `tsmw_${batch}_f${contentSha256.slice(0, 40)}`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 32);
}
