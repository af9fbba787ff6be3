import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { encodeValue } from '../wire/codec.js';

/** The longest key a task may have. */
export const MAX_TASK_KEY_LENGTH = 1024;

const readableKey = /^[A-Za-z0-9][\w.:-]{0,119}$/;

/**
 * The task id of a keyed task: the same for the same key in every master, so that a result a
 * durable transport stored for a key is the result of the task that carries it again. Readable
 * keys stay readable (`k:map-0-17`); others become a hash (`h:` + 32 hex digits). Unkeyed task ids
 * (random per master) never start with `k:` or `h:`.
 */
export function taskIdForKey(key: string): string {
  return readableKey.test(key) ? `k:${key}` : `h:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

export function assertTaskKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_TASK_KEY_LENGTH) {
    throw new InvalidArgumentError(`key must be a non-empty string of at most ${MAX_TASK_KEY_LENGTH} characters, not ${describe(key)}`);
  }
}

/**
 * The input hash a durable transport keeps with a key: sha256 (hex) over the task name, the
 * input as it travels, and the data file names. A key submitted again with another hash is a
 * conflict, never a silent reuse of the other input's result.
 */
export function hashTaskInput(taskName: string, input: unknown, fileNames: readonly string[], maxBytes: number): string {
  return createHash('sha256')
    .update(encodeValue([taskName, input, fileNames], maxBytes, 'task input'))
    .digest('hex');
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length === 0 ? 'an empty string' : `a string of ${value.length} characters`;
  return value === null ? 'null' : typeof value;
}
