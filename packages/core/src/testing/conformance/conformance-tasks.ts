// The task module every transport runs in the conformance suite. It imports only the public
// entry point, like any user's task module.
import { defineTask, type TaskContext } from '@tsmw/core';

/** Returns its input unchanged: the round trip of values. */
export const echo = defineTask('echo', (input: unknown) => input);

/** Adds two numbers: the cheapest real task. */
export const add = defineTask('add', (input: { a: number; b: number }) => input.a + input.b);

/** Sums an array (the reduce task of mapReduce). */
export const sum = defineTask('sum', (values: number[]) => values.reduce((total, value) => total + value, 0));

/** Squares a number (the map task of mapReduce). */
export const square = defineTask('square', (value: number) => value * value);

/** Throws an error with a code and a cause. */
export const fail = defineTask('fail', (input: { message: string; code?: string; name?: string; retryable?: boolean }) => {
  const error = new Error(input.message, { cause: new TypeError('the underlying cause') }) as Error & { code?: string; retryable?: boolean };
  if (input.name !== undefined) error.name = input.name;
  if (input.code !== undefined) error.code = input.code;
  if (input.retryable === true) error.retryable = true;
  throw error;
});

/** Waits `ms` milliseconds, stopping early (with the abort reason) when its signal is aborted. */
export const sleep = defineTask('sleep', async (input: { ms: number; value?: unknown }, context: TaskContext) => {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, input.ms);
    context.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(context.signal.reason ?? new Error('aborted'));
    }, { once: true });
  });
  return input.value ?? input.ms;
});

/** Reports progress in `steps` steps, `ms` apart. */
export const progress = defineTask('progress', async (input: { steps: number; ms: number }, context: TaskContext) => {
  for (let step = 1; step <= input.steps; step += 1) {
    await new Promise((resolve) => setTimeout(resolve, input.ms));
    context.progress(step / input.steps);
  }
  return input.steps;
});

/** Writes console lines, then returns or throws. */
export const chatty = defineTask('chatty', (input: { lines: string[]; fail?: boolean }) => {
  for (const [index, line] of input.lines.entries()) {
    if (index % 2 === 0) console.log(line);
    else console.error(line);
  }
  if (input.fail === true) throw new Error('chatty failed');
  return input.lines.length;
});

/** Reads a data file and returns its size and first bytes. */
export const readData = defineTask('readData', async (input: { name: string }, context: TaskContext) => {
  const bytes = await context.file(input.name);
  return { size: bytes.byteLength, head: Array.from(bytes.subarray(0, 4)) };
});

/**
 * Saves a checkpoint, then fails with a retryable error on its first attempt; the retry
 * restores the checkpoint and returns it.
 */
export const resumable = defineTask('resumable', async (input: { state: number }, context: TaskContext) => {
  const restored = await context.restore<{ state: number }>();
  if (restored !== undefined) return { restored: restored.state, attempt: context.attempt };
  await context.checkpoint({ state: input.state });
  const error = new Error('stopped after the checkpoint') as Error & { retryable: boolean };
  error.retryable = true;
  throw error;
});

/** Returns `bytes` bytes: for output sizes. */
export const blob = defineTask('blob', (input: { bytes: number }) => {
  const data = new Uint8Array(input.bytes);
  for (let index = 0; index < data.length; index += 4096) data[index] = index % 251;
  return data;
});

/** Takes no input (submitted with `undefined`). */
export const takesNothing = defineTask('takesNothing', (input: unknown) => {
  if (input !== undefined) throw new TypeError(`takesNothing got an input: ${String(input)}`);
  return 'ran without input';
});

/** Returns nothing, after `ms` milliseconds. */
export const returnsNothing = defineTask('returnsNothing', async (input: { ms: number }): Promise<void> => {
  await new Promise((resolve) => setTimeout(resolve, input.ms));
});

/** Returns a value that cannot cross (a function inside a Map): the task fails with UnsupportedValueError. */
export const returnsFunction = defineTask('returnsFunction', () => ({ handlers: new Map([['click', () => 'clicked']]) }));
