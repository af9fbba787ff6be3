import { InvalidArgumentError } from '@tsmw/core';
import type { BatchReference } from './submit-rpc-types.js';

// BOINC puts most values unescaped into `create_work` lines (split on whitespace and quotes)
// and into XML it prints back. Rather than trust that, the client accepts only values that
// survive both unchanged, and refuses the rest with an error naming the value and the rule.

/** Workunit names: a `create_work --wu_name` token, a file-name part of every output (`<wu>_<n>_<i>`). */
export const jobNamePattern = /^[A-Za-z0-9_.-]{1,200}$/;
/** Batch names tsmw sends (BOINC prints them back unescaped). */
export const batchNamePattern = /^[A-Za-z0-9_.:-]{1,200}$/;
/** Physical file names: BOINC's `is_valid_filename` without spaces (they would split a `create_work` line). */
export const physicalNamePattern = /^[A-Za-z0-9_.-]{1,255}$/;
/** Template file names under the project's `templates/`. */
const templateFilePattern = /^[A-Za-z0-9_.-]{1,63}(?:\/[A-Za-z0-9_.-]{1,63})?$/;
/** A command line that survives `"..."` on a `create_work --stdin` line and BOINC's unescaped XML. */
// eslint-disable-next-line no-control-regex
const commandLineForbidden = /["<>&\u0000-\u001F\u007F]/;
/** A URL that survives an unquoted `--remote_file URL` token and BOINC's unescaped `<url>`. */
const remoteUrlPattern = /^https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$()*+,;=%]+$/;
const md5Pattern = /^[0-9a-f]{32}$/;

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : String(value);
}

export function assertJobName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !jobNamePattern.test(name)) {
    throw new InvalidArgumentError(`job name ${describe(name)} is not usable on BOINC: use 1 to 200 letters, digits, "_", "." or "-"`);
  }
}

export function assertBatchName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !batchNamePattern.test(name)) {
    throw new InvalidArgumentError(`batch name ${describe(name)} is not usable on BOINC: use 1 to 200 letters, digits, "_", ".", ":" or "-"`);
  }
}

export function assertPhysicalName(name: unknown, what = 'physical file name'): asserts name is string {
  if (typeof name !== 'string' || !physicalNamePattern.test(name) || name === '.' || name === '..') {
    throw new InvalidArgumentError(`${what} ${describe(name)} is not usable on BOINC: use 1 to 255 letters, digits, "_", "." or "-"`);
  }
}

export function assertTemplateFile(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || !templateFilePattern.test(name) || name.split('/').some((part) => part === '.' || part === '..')) {
    throw new InvalidArgumentError(`${what} ${describe(name)} is not a file name under the project's templates/`);
  }
}

export function assertCommandLine(commandLine: unknown, what: string): asserts commandLine is string {
  if (typeof commandLine !== 'string' || commandLine.length > 2000 || commandLineForbidden.test(commandLine)) {
    throw new InvalidArgumentError(
      `${what} ${describe(commandLine)} cannot be passed through BOINC: at most 2,000 characters, without double quotes, "<", ">", "&" or control characters (BOINC writes it unescaped into a create_work line and the workunit's XML)`,
    );
  }
}

export function assertRemoteUrl(url: unknown, what: string): asserts url is string {
  if (typeof url !== 'string' || url.length > 1000 || !remoteUrlPattern.test(url) || url.includes('&')) {
    throw new InvalidArgumentError(
      `${what} ${describe(url)} cannot be passed through BOINC: an http(s) URL of at most 1,000 characters without spaces, quotes or "&" (BOINC writes it unescaped into a create_work line and the workunit's XML)`,
    );
  }
}

export function assertMd5(md5: unknown, what: string): asserts md5 is string {
  if (typeof md5 !== 'string' || !md5Pattern.test(md5)) throw new InvalidArgumentError(`${what} ${describe(md5)} is not an MD5 in lowercase hex`);
}

export function assertId(id: unknown, what: string): asserts id is number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) throw new InvalidArgumentError(`${what} ${describe(id)} is not a BOINC id (a positive integer)`);
}

export function assertInteger(value: unknown, what: string, minimum = Number.MIN_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw new InvalidArgumentError(`${what} ${describe(value)} must be an integer${minimum > Number.MIN_SAFE_INTEGER ? ` of at least ${minimum}` : ''}`);
  }
}

export function assertPositiveNumber(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(`${what} ${describe(value)} must be a positive finite number`);
}

export function assertBatchReference(batch: unknown): asserts batch is BatchReference {
  if (typeof batch !== 'object' || batch === null) throw new InvalidArgumentError('a batch is named by { batchId } or { batchName }');
  const reference = batch as { batchId?: unknown; batchName?: unknown };
  if (reference.batchId !== undefined && reference.batchName !== undefined) {
    throw new InvalidArgumentError('name a batch by batchId or by batchName, not both');
  }
  if (reference.batchId !== undefined) assertId(reference.batchId, 'batchId');
  else if (reference.batchName !== undefined) assertBatchName(reference.batchName);
  else throw new InvalidArgumentError('a batch is named by { batchId } or { batchName }');
}

/**
 * Checks an authenticator without ever printing it: BOINC's are 32 hexadecimal characters, but
 * any printable token without spaces is accepted.
 */
export function assertAuthenticator(authenticator: unknown): asserts authenticator is string {
  if (typeof authenticator !== 'string' || !/^[\x21-\x7E]{1,256}$/.test(authenticator)) {
    throw new InvalidArgumentError(
      `the authenticator must be 1 to 256 printable characters without spaces (${typeof authenticator === 'string' ? `${authenticator.length} characters given` : `a ${typeof authenticator} given`}; its value is never shown)`,
    );
  }
}
