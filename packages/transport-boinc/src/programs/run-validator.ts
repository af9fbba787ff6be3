import { readFile, stat } from 'node:fs/promises';
import { DEFAULT_MAX_ENVELOPE_BYTES, decodeResultEnvelope, type ResultEnvelope } from '@tsmw/core';
import { structurallyEqual } from '../structurally-equal.js';
import { findProjectHome } from './find-project-home.js';
import { findTaskEquality } from './find-task-equality.js';

/** Exit statuses BOINC's `script_validator` reads: 0 valid / matching, 1 invalid / not matching, 3 a transient failure (tried again later). */
export const validatorExit = { valid: 0, invalid: 1, transient: 3 } as const;

export interface ValidatorIo {
  readonly stderr: (text: string) => void;
  /** For finding the project (see `findProjectHome`): the compare program asks the task module how to compare. */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly programPath?: string;
}

type Read = { readonly ok: true; readonly envelope: ResultEnvelope } | { readonly ok: false; readonly exit: number; readonly reason: string };

function maxBytesFrom(args: string[]): number | string {
  const index = args.indexOf('--max-bytes');
  if (index === -1) return DEFAULT_MAX_ENVELOPE_BYTES;
  const value = Number(args[index + 1]);
  args.splice(index, 2);
  return Number.isSafeInteger(value) && value > 0 ? value : `--max-bytes needs a whole number of bytes, not ${JSON.stringify(args[index + 1])}`;
}

async function readResult(path: string, maxBytes: number): Promise<Read> {
  let bytes: Uint8Array;
  try {
    const info = await stat(path);
    if (!info.isFile()) return { ok: false, exit: validatorExit.invalid, reason: `${path} is not a regular file` };
    if (info.size > maxBytes) return { ok: false, exit: validatorExit.invalid, reason: `${path} is ${info.size} bytes, above the cap of ${maxBytes}` };
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A missing output is the result's fault; anything else (EIO, EACCES, EMFILE) may pass.
    if (code === 'ENOENT') return { ok: false, exit: validatorExit.invalid, reason: `${path} does not exist` };
    return { ok: false, exit: validatorExit.transient, reason: `cannot read ${path}: ${(error as Error).message}` };
  }
  try {
    return { ok: true, envelope: decodeResultEnvelope(bytes, { maxBytes }) };
  } catch (error) {
    return { ok: false, exit: validatorExit.invalid, reason: `${path} is not a tsmw result envelope: ${(error as Error).message}` };
  }
}

/**
 * `tsmw_validate FILES...` (BOINC's `script_validator --init_script tsmw_validate`, default
 * form `files`): valid when the result's output decodes as a tsmw result envelope.
 */
export async function runValidatorInit(argv: readonly string[], io: ValidatorIo): Promise<number> {
  const args = [...argv];
  const maxBytes = maxBytesFrom(args);
  if (typeof maxBytes === 'string' || args.length === 0) {
    io.stderr(`tsmw_validate: ${typeof maxBytes === 'string' ? maxBytes : 'no output file given'}\nusage: tsmw_validate [--max-bytes N] FILE...\n`);
    return validatorExit.transient;
  }
  for (const path of args) {
    const read = await readResult(path, maxBytes);
    if (!read.ok) {
      io.stderr(`tsmw_validate: ${read.reason}\n`);
      return read.exit;
    }
  }
  return validatorExit.valid;
}

/**
 * `tsmw_compare [--project DIR] [--max-bytes N] FILES FILES2` (BOINC's `script_validator
 * --compare_script tsmw_compare`, default form `files files2`: the output files of one result,
 * then those of another, as many each): matching when the decoded outputs are equal by the task's
 * own `equals` (`defineTask(name, run, { equals })`, loaded from the deployed task module the job
 * ran: see `findTaskEquality`), structurally (`structurallyEqual`) when the task defines none, or
 * when both failed with the same error name and message. Timings, hosts and console lines are not
 * compared: they differ between hosts. When the task module cannot be read or loaded now, the
 * answer is transient (3: BOINC asks again later), never a guess; an `equals` that throws is no
 * match.
 */
export async function runValidatorCompare(argv: readonly string[], io: ValidatorIo): Promise<number> {
  const args = [...argv];
  let projectOption: string | undefined;
  if (args[0] === '--project') {
    projectOption = args[1];
    args.splice(0, 2);
  }
  const maxBytes = maxBytesFrom(args);
  if (typeof maxBytes === 'string' || args.length === 0 || args.length % 2 !== 0) {
    io.stderr(`tsmw_compare: ${typeof maxBytes === 'string' ? maxBytes : `expected the same number of files for both results, got ${args.length}`}\nusage: tsmw_compare [--project DIR] [--max-bytes N] FILES FILES2\n`);
    return validatorExit.transient;
  }
  const half = args.length / 2;
  const results: Array<[ResultEnvelope, ResultEnvelope]> = [];
  for (let index = 0; index < half; index += 1) {
    const [left, right] = await Promise.all([readResult(args[index]!, maxBytes), readResult(args[index + half]!, maxBytes)]);
    for (const read of [left, right]) {
      if (!read.ok) {
        io.stderr(`tsmw_compare: ${read.reason}\n`);
        return read.exit === validatorExit.transient ? validatorExit.transient : validatorExit.invalid;
      }
    }
    if (!left.ok || !right.ok) return validatorExit.invalid;
    results.push([left.envelope, right.envelope]);
  }
  // Both results are of one job: its first output names it.
  const projectHome = findProjectHome(projectOption, { env: io.env ?? process.env, cwd: io.cwd ?? process.cwd(), ...(io.programPath === undefined ? {} : { programPath: io.programPath }) });
  if (projectOption !== undefined && projectHome === undefined) {
    io.stderr(`tsmw_compare: --project ${projectOption} is not a BOINC project directory (no config.xml)\n`);
    return validatorExit.transient;
  }
  const equality = await findTaskEquality(args[0]!, projectHome);
  if (equality.kind === 'unknown') {
    io.stderr(`tsmw_compare: ${equality.reason} (BOINC will ask again)\n`);
    return validatorExit.transient;
  }
  const equals = equality.kind === 'task' ? equality.equals : structurallyEqual;
  for (let index = 0; index < half; index += 1) {
    const [left, right] = results[index]!;
    let match: boolean;
    try {
      match = resultsMatch(left, right, equals);
    } catch (error) {
      io.stderr(`tsmw_compare: the equals of task ${equality.kind === 'task' ? equality.taskName : '?'} threw on ${args[index]} and ${args[index + half]}: ${(error as Error).message}\n`);
      return validatorExit.invalid;
    }
    if (!match) {
      io.stderr(`tsmw_compare: ${args[index]} and ${args[index + half]} differ${equality.kind === 'task' ? ` by the equals of task ${equality.taskName}` : ''}\n`);
      return validatorExit.invalid;
    }
  }
  return validatorExit.valid;
}

/** Whether two results of one task agree: same outcome, and equal outputs (or the same error). */
export function resultsMatch(left: ResultEnvelope, right: ResultEnvelope, equals: (a: unknown, b: unknown) => boolean = structurallyEqual): boolean {
  if (left.ok && right.ok) return equals(left.output, right.output) === true;
  if (!left.ok && !right.ok) return left.error.name === right.error.name && left.error.message === right.error.message;
  return false;
}
