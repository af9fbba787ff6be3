import { InvalidArgumentError } from '../errors/invalid-argument-error.js';

/** What a batch name may look like: safe as a file name, a BOINC batch name and a job-name part. */
export const batchNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Checks a batch name given to `createMaster`; throws `InvalidArgumentError` naming the rule. */
export function assertBatchName(batch: unknown): asserts batch is string {
  if (typeof batch !== 'string' || !batchNamePattern.test(batch)) {
    throw new InvalidArgumentError(
      `batch ${JSON.stringify(batch)} is not a valid batch name: use 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit (for example "pi-2026-11")`,
    );
  }
}
