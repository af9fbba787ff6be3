import { describe, expect, it } from 'vitest';
import {
  decodeResultEnvelope,
  defineTask,
  encodeTaskEnvelope,
  executeTaskEnvelope,
  executeTaskEnvelopeNow,
  indexTaskModule,
  type ExecuteOptions,
  type ResultEnvelope,
  type TaskContext,
} from '@tsmw/core';

const moduleHash = 'c'.repeat(64);

/** Waits until the task's signal is aborted, then rejects with its reason. */
const untilAborted = (context: TaskContext): Promise<never> =>
  new Promise((_resolve, reject) => {
    if (context.signal.aborted) reject(context.signal.reason);
    else context.signal.addEventListener('abort', () => reject(context.signal.reason), { once: true });
  });

const registry = indexTaskModule({
  syncReturn: defineTask('syncReturn', (input: number) => ({ doubled: input * 2 })),
  asyncReturn: defineTask('asyncReturn', async (input: number) => {
    await Promise.resolve();
    return input + 1;
  }),
  syncThrow: defineTask('syncThrow', (): never => {
    throw new RangeError('sync failure');
  }),
  asyncThrow: defineTask('asyncThrow', async (): Promise<never> => {
    await Promise.resolve();
    throw new TypeError('async failure');
  }),
  thenable: defineTask('thenable', () => ({ then: (resolve: (value: unknown) => void) => resolve('from a thenable') })),
  syncConsole: defineTask('syncConsole', (input: string) => {
    console.log('out', input);
    process.stderr.write('err line\npartial');
    return input.length;
  }),
  asyncConsole: defineTask('asyncConsole', async (input: string) => {
    console.log('before');
    await Promise.resolve();
    console.error('after', input);
    return 1;
  }),
  syncProgress: defineTask('syncProgress', (_input: null, context) => {
    context.progress(0.25);
    context.progress(7);
    return 'done';
  }),
  asyncProgress: defineTask('asyncProgress', async (_input: null, context) => {
    context.progress(0.5);
    await Promise.resolve();
    context.progress(Number.NaN);
    context.progress(-1);
    return 'done';
  }),
  syncUntilAbort: defineTask('syncUntilAbort', (_input: null, context) => (context.signal.aborted ? 'saw the abort' : 'not aborted')),
  asyncUntilAbort: defineTask('asyncUntilAbort', (_input: null, context) => untilAborted(context)),
  syncThrowsReason: defineTask('syncThrowsReason', (_input: null, context): never => {
    throw context.signal.reason;
  }),
  unencodable: defineTask('unencodable', () => ({ callback: () => 1 })),
  huge: defineTask('huge', () => new Uint8Array(4096)),
  asyncHuge: defineTask('asyncHuge', async () => new Uint8Array(4096)),
});

interface Case {
  readonly taskName: string;
  readonly input?: unknown;
  /** The deadline, from now (ms); negative: already past. */
  readonly deadlineIn?: number;
  /** Abort the transport's signal before the run, or once the run has started. */
  readonly abort?: 'before' | 'while-running';
  readonly options?: ExecuteOptions;
  readonly moduleHash?: string;
  /** Raw bytes instead of an envelope. */
  readonly bytes?: Uint8Array;
  /** Whether the result comes at once (the task did not return a promise). */
  readonly synchronous: boolean;
  readonly expected: { readonly ok: true; readonly output: unknown } | { readonly ok: false; readonly code?: string; readonly name?: string };
}

const cases: ReadonlyArray<readonly [string, Case]> = [
  ['a synchronous return', { taskName: 'syncReturn', input: 21, synchronous: true, expected: { ok: true, output: { doubled: 42 } } }],
  ['an asynchronous return', { taskName: 'asyncReturn', input: 41, synchronous: false, expected: { ok: true, output: 42 } }],
  ['a synchronous throw', { taskName: 'syncThrow', synchronous: true, expected: { ok: false, name: 'RangeError' } }],
  ['an asynchronous throw', { taskName: 'asyncThrow', synchronous: false, expected: { ok: false, name: 'TypeError' } }],
  ['a thenable', { taskName: 'thenable', synchronous: false, expected: { ok: true, output: 'from a thenable' } }],
  ['console output, synchronous, exclusive', { taskName: 'syncConsole', input: 'abc', options: { consoleCapture: 'exclusive' }, synchronous: true, expected: { ok: true, output: 3 } }],
  ['console output, synchronous, shared', { taskName: 'syncConsole', input: 'abc', options: { consoleCapture: 'shared' }, synchronous: true, expected: { ok: true, output: 3 } }],
  ['console output, asynchronous, exclusive', { taskName: 'asyncConsole', input: 'x', options: { consoleCapture: 'exclusive' }, synchronous: false, expected: { ok: true, output: 1 } }],
  ['console output, asynchronous, shared', { taskName: 'asyncConsole', input: 'x', options: { consoleCapture: 'shared' }, synchronous: false, expected: { ok: true, output: 1 } }],
  ['progress, synchronous', { taskName: 'syncProgress', input: null, synchronous: true, expected: { ok: true, output: 'done' } }],
  ['progress, asynchronous', { taskName: 'asyncProgress', input: null, synchronous: false, expected: { ok: true, output: 'done' } }],
  ['a deadline already past, synchronous', { taskName: 'syncUntilAbort', input: null, deadlineIn: -1000, synchronous: true, expected: { ok: false, code: 'TSMW_TASK_TIMED_OUT' } }],
  ['a deadline already past, thrown as the reason', { taskName: 'syncThrowsReason', input: null, deadlineIn: -1000, synchronous: true, expected: { ok: false, code: 'TSMW_TASK_TIMED_OUT' } }],
  ['a deadline reached while running', { taskName: 'asyncUntilAbort', input: null, deadlineIn: 20, synchronous: false, expected: { ok: false, code: 'TSMW_TASK_TIMED_OUT' } }],
  ['a deadline far away', { taskName: 'syncUntilAbort', input: null, deadlineIn: 60_000, synchronous: true, expected: { ok: true, output: 'not aborted' } }],
  ['aborted before the run, synchronous', { taskName: 'syncUntilAbort', input: null, abort: 'before', synchronous: true, expected: { ok: false, name: 'AbortError' } }],
  ['aborted before the run, with a deadline', { taskName: 'syncUntilAbort', input: null, abort: 'before', deadlineIn: 60_000, synchronous: true, expected: { ok: false, name: 'AbortError' } }],
  ['aborted while running', { taskName: 'asyncUntilAbort', input: null, abort: 'while-running', synchronous: false, expected: { ok: false, name: 'AbortError' } }],
  ['aborted while running, with a deadline', { taskName: 'asyncUntilAbort', input: null, abort: 'while-running', deadlineIn: 60_000, synchronous: false, expected: { ok: false, name: 'AbortError' } }],
  ['another module hash', { taskName: 'syncReturn', input: 1, moduleHash: 'd'.repeat(64), synchronous: true, expected: { ok: false, code: 'TSMW_TASK_MODULE_MISMATCH' } }],
  ['an unknown task', { taskName: 'missing', input: 1, synchronous: true, expected: { ok: false, code: 'TSMW_TASK_NOT_FOUND' } }],
  ['an output that cannot be encoded', { taskName: 'unencodable', synchronous: true, expected: { ok: false, code: 'TSMW_UNSUPPORTED_VALUE' } }],
  ['an output over the cap', { taskName: 'huge', options: { maxEnvelopeBytes: 1024 }, synchronous: true, expected: { ok: false, code: 'TSMW_ENVELOPE_TOO_LARGE' } }],
  ['an output over the cap, asynchronous', { taskName: 'asyncHuge', options: { maxEnvelopeBytes: 1024 }, synchronous: false, expected: { ok: false, code: 'TSMW_ENVELOPE_TOO_LARGE' } }],
  ['bytes that are not an envelope', { taskName: '', bytes: new Uint8Array([0xc1]), synchronous: true, expected: { ok: false, code: 'TSMW_ENVELOPE_DECODE' } }],
  ['an envelope over the cap', { taskName: 'syncReturn', input: 'x'.repeat(2000), options: { maxEnvelopeBytes: 1024 }, synchronous: true, expected: { ok: false, code: 'TSMW_ENVELOPE_TOO_LARGE' } }],
];

/** What a run gives: its result envelope without timing values, stacks or host, and the progress it reported. */
interface Outcome {
  readonly result: unknown;
  readonly progress: ReadonlyArray<readonly [string, number]>;
}

/** A result envelope without what differs between two runs: timing values, stack traces. */
function comparable(result: ResultEnvelope): unknown {
  expect(result.timing.startedAt).toBeGreaterThan(0);
  expect(result.timing.wallMs).toBeGreaterThanOrEqual(0);
  expect(result.timing.cpuMs).toBeGreaterThanOrEqual(0);
  const { timing: _timing, ...rest } = result;
  if (rest.ok) return rest;
  const withoutStacks = (error: object): unknown => {
    const { stack: _stack, cause, ...fields } = error as { stack?: string; cause?: object; message: string };
    // A result too large to send is measured with the stack of the error it held, which differs with the call path.
    // A time-out counts from the run's start to the deadline: another figure in another run.
    fields.message = fields.message.replace(/^The result envelope is \d+ bytes/, 'The result envelope is (some) bytes').replace(/timed out after \d+ ms$/, 'timed out after (some) ms');
    return cause === undefined ? fields : { ...fields, cause: withoutStacks(cause) };
  };
  return { ...rest, error: withoutStacks(rest.error) };
}

async function run(testCase: Case, path: 'now' | 'async'): Promise<Outcome & { readonly synchronous: boolean }> {
  const progress: Array<readonly [string, number]> = [];
  const controller = new AbortController();
  if (testCase.abort === 'before') controller.abort();
  const options: ExecuteOptions = {
    moduleHash,
    signal: controller.signal,
    onProgress: (taskId, fraction) => progress.push([taskId, fraction]),
    ...testCase.options,
  };
  const bytes =
    testCase.bytes ??
    encodeTaskEnvelope({
      kind: 'tsmw-task',
      version: 1,
      taskId: `task-${testCase.taskName}`,
      taskName: testCase.taskName,
      moduleHash: testCase.moduleHash ?? moduleHash,
      attempt: 3,
      input: testCase.input,
      ...(testCase.deadlineIn === undefined ? {} : { deadline: Date.now() + testCase.deadlineIn }),
    });
  const started = path === 'now' ? executeTaskEnvelopeNow(bytes, registry, options) : executeTaskEnvelope(bytes, registry, options);
  const synchronous = started instanceof Uint8Array;
  if (testCase.abort === 'while-running') controller.abort();
  const result = decodeResultEnvelope(await started);
  return { result: comparable(result), progress, synchronous };
}

describe('executeTaskEnvelopeNow: the outcomes of executeTaskEnvelope, without a promise for a synchronous task', () => {
  for (const [label, testCase] of cases) {
    it(label, async () => {
      const now = await run(testCase, 'now');
      const reference = await run(testCase, 'async');
      expect(now.synchronous).toBe(testCase.synchronous);
      expect(reference.synchronous).toBe(false);
      expect(now.result).toEqual(reference.result);
      expect(now.progress).toEqual(reference.progress);
      const result = now.result as { ok: boolean; output?: unknown; error?: { name: string; code?: string } };
      expect(result.ok).toBe(testCase.expected.ok);
      if (testCase.expected.ok) expect(result.output).toEqual(testCase.expected.output);
      else {
        if (testCase.expected.code !== undefined) expect(result.error?.code).toBe(testCase.expected.code);
        if (testCase.expected.name !== undefined) expect(result.error?.name).toBe(testCase.expected.name);
      }
    });
  }

  it('captures console output and progress of a synchronous task as the asynchronous path does', async () => {
    const [, exclusive] = cases.find(([label]) => label === 'console output, synchronous, exclusive')!;
    expect((await run(exclusive, 'now')).result).toMatchObject({
      console: [
        { stream: 'stdout', text: 'out abc' },
        { stream: 'stderr', text: 'err line' },
        { stream: 'stderr', text: 'partial' },
      ],
    });
    const [, progress] = cases.find(([label]) => label === 'progress, synchronous')!;
    expect((await run(progress, 'now')).progress).toEqual([
      ['task-syncProgress', 0.25],
      ['task-syncProgress', 1],
    ]);
  });

  it('in exclusive mode, each task of a row gets only its own console output (silent ones none)', async () => {
    const options: ExecuteOptions = { moduleHash, consoleCapture: 'exclusive' };
    const runOne = async (taskName: string, input: unknown): Promise<unknown> =>
      decodeResultEnvelope(await executeTaskEnvelopeNow(encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: 't', taskName, moduleHash, attempt: 1, input }), registry, options))
        .console;
    expect(await runOne('syncReturn', 1)).toBeUndefined();
    expect(await runOne('syncConsole', 'first')).toEqual([
      { stream: 'stdout', text: 'out first' },
      { stream: 'stderr', text: 'err line' },
      { stream: 'stderr', text: 'partial' },
    ]);
    expect(await runOne('syncReturn', 2)).toBeUndefined();
    expect(await runOne('syncThrow', null)).toBeUndefined();
    expect(await runOne('asyncConsole', 'second')).toEqual([
      { stream: 'stdout', text: 'before' },
      { stream: 'stderr', text: 'after second' },
    ]);
    expect(await runOne('asyncReturn', 3)).toBeUndefined();
    expect(await runOne('syncConsole', 'third')).toEqual([
      { stream: 'stdout', text: 'out third' },
      { stream: 'stderr', text: 'err line' },
      { stream: 'stderr', text: 'partial' },
    ]);
  });

  it('many synchronous tasks in a row, each its own result, none of them a promise', () => {
    const options: ExecuteOptions = { moduleHash, consoleCapture: 'exclusive' };
    for (let index = 0; index < 500; index += 1) {
      const bytes = encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: `t-${index}`, taskName: 'syncReturn', moduleHash, attempt: 1, input: index });
      const result = executeTaskEnvelopeNow(bytes, registry, options);
      expect(result).toBeInstanceOf(Uint8Array);
      expect(decodeResultEnvelope(result as Uint8Array)).toMatchObject({ taskId: `t-${index}`, ok: true, output: { doubled: index * 2 } });
    }
  });
});
