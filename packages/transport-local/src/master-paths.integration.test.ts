/**
 * The master's fast paths against its general ones, on one table of cases, on the real local
 * transport: `map` (outputs collected in one go) against `mapStream` (one async iteration per
 * output) against `submit` per input with `result`. Each route must give the same outputs, the
 * same errors, the same events per task and the same stats. (The envelope codec's fast path is
 * checked against the general encoder byte for byte in core's envelope-encoders test.)
 */
import { createMaster, type Master, type MasterStats, type TaskDefinition } from '@tsmw/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalTransport } from './create-local-transport.js';

const poolTasks = new URL('../test/fixtures/pool-tasks.mjs', import.meta.url);
const tasks = (await import(poolTasks.href)) as Record<string, TaskDefinition<never, unknown>>;
const tableCase = tasks['tableCase']!;
const MAX_ENVELOPE_BYTES = 64 * 1024;

type Route = 'map' | 'mapStream' | 'submit';
const routes: readonly Route[] = ['map', 'mapStream', 'submit'];

interface RunOptions {
  readonly timeoutMs?: number;
  readonly retries?: number;
  /** Aborts the run's signal when this many tasks have been submitted. */
  readonly abortAfterSubmitted?: number;
  /** map and mapStream read the inputs from an async generator. */
  readonly asyncSource?: boolean;
}

async function* fromAsyncSource(inputs: readonly unknown[]): AsyncGenerator<unknown> {
  for (const input of inputs) {
    await Promise.resolve();
    yield input;
  }
}

/** What a run gave: outputs (in input order) or the error, events per task (by input position), stats. */
interface Observed {
  readonly outcome: unknown;
  readonly events: unknown[][];
  readonly stats: unknown;
}

const open: Master[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((master) => master.close({ force: true }).catch(() => {})));
});

/** An error as a comparable record: its class, code, message (task ids by input position) and cause. */
function describeError(error: unknown, positions: ReadonlyMap<string, number>): unknown {
  const { name, message, code, cause } = error as Error & { code?: unknown };
  const text = message.replace(/[0-9a-z]+-[0-9a-z]+/g, (id) => (positions.has(id) ? `#${positions.get(id)}` : id));
  return { name, code, message: text, cause: cause === undefined ? undefined : describeError(cause, positions) };
}

function describeStats(stats: MasterStats): unknown {
  const byTask = Object.fromEntries(Object.entries(stats.byTask).map(([name, task]) => [name, { completed: task.completed, failed: task.failed, timed: task.wall.count }]));
  return { submitted: stats.submitted, queued: stats.queued, running: stats.running, completed: stats.completed, failed: stats.failed, cancelled: stats.cancelled, retried: stats.retried, byTask };
}

async function run(route: Route, inputs: readonly unknown[], options: RunOptions = {}): Promise<Observed> {
  const master = await createMaster({ transport: createLocalTransport({ workers: 2, maxEnvelopeBytes: MAX_ENVELOPE_BYTES }), tasks: poolTasks });
  open.push(master);
  const positions = new Map<string, number>();
  const events: unknown[][] = inputs.map(() => []);
  const controller = new AbortController();
  const record = (taskId: string, entry: unknown): void => {
    const position = positions.get(taskId);
    if (position === undefined) throw new Error(`an event for a task never submitted: ${taskId}`);
    const list = events[position]!;
    // Whether an attempt that ends in a failure or a retry was seen to start depends on timing
    // (a crash can come before the pool looked); a completed attempt always has its start.
    if (typeof entry === 'object' && entry !== null && ('retried' in entry || 'failed' in entry)) {
      const started = list.indexOf('started');
      if (started >= 0) list.splice(started, 1);
    }
    if (entry !== 'started' || !list.includes('started')) list.push(entry);
  };
  master.on('task-submitted', ({ taskId }) => {
    positions.set(taskId, positions.size);
    record(taskId, 'submitted');
    if (positions.size === options.abortAfterSubmitted) controller.abort();
  });
  master.on('task-started', ({ taskId }) => record(taskId, 'started'));
  master.on('task-completed', ({ taskId, output, console: lines }) => record(taskId, { completed: output, console: lines }));
  master.on('task-failed', ({ taskId, error }) => record(taskId, { failed: describeError(error, positions) }));
  master.on('task-retried', ({ taskId, attempt, error }) => record(taskId, { retried: attempt, error: describeError(error, positions) }));
  master.on('task-cancelled', ({ taskId }) => record(taskId, 'cancelled'));
  const taskOptions = {
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.retries === undefined ? {} : { retries: options.retries }),
    ...(options.abortAfterSubmitted === undefined ? {} : { signal: controller.signal }),
  };
  let outcome: unknown;
  const source = (options.asyncSource === true ? fromAsyncSource(inputs) : inputs) as never[];
  try {
    if (route === 'map') outcome = { outputs: await master.map(tableCase, source, taskOptions) };
    else if (route === 'mapStream') {
      const outputs: unknown[] = [];
      for await (const output of master.mapStream(tableCase, source, taskOptions)) outputs.push(output);
      outcome = { outputs };
    } else {
      const handles = [];
      for (const [index, input] of inputs.entries()) {
        try {
          handles.push(await master.submit(tableCase, input as never, taskOptions));
        } catch (error) {
          // map names the input it refused; submit has one input
          if (error instanceof Error) error.message = `${error.message} (input ${index} of the map)`;
          throw error;
        }
      }
      const settled = await Promise.allSettled(handles.map((handle) => handle.result));
      const failure = settled.find((result) => result.status === 'rejected');
      outcome = failure === undefined ? { outputs: settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) } : { error: failure.reason };
    }
  } catch (error) {
    outcome = { error };
  }
  await master.close();
  if (typeof outcome === 'object' && outcome !== null && 'error' in outcome) outcome = { error: describeError(outcome.error, positions) };
  return { outcome, events, stats: describeStats(master.stats()) };
}

/** Runs every route and expects the same observations from each; returns them. */
async function expectSameOnEveryRoute(inputs: readonly unknown[], options: RunOptions = {}): Promise<Observed> {
  const observed: Observed[] = [];
  for (const route of routes) observed.push(await run(route, inputs, options));
  const [first, ...others] = observed;
  for (const [index, other] of others.entries()) {
    expect({ route: routes[index + 1], ...other }).toEqual({ route: routes[index + 1], ...first! });
  }
  return first!;
}

const values: ReadonlyArray<readonly [string, unknown]> = [
  ['a number', 42],
  ['-0 and NaN', [-0, Number.NaN]],
  ['a string with non-ASCII text', 'héllo €uro 𝄞'],
  ['null', null],
  ['nested objects and arrays', { list: [1, { deep: ['x', null] }], flag: true }],
  ['a bigint', 2n ** 70n],
  ['binary and typed arrays', [new Uint8Array([1, 2, 3]), new Float64Array([1.5, -2])]],
  ['a Map, a Set, a Date, a RegExp', [new Map([[1, 'one']]), new Set(['a']), new Date(1_700_000_000_000), /x+/g]],
  ['an error as a value', new TypeError('a value, not thrown')],
  ['an input near the cap', 'n'.repeat(MAX_ENVELOPE_BYTES - 400)],
];

describe('the master: map, mapStream and submit give the same results, errors, events and stats', () => {
  for (const [label, value] of values) {
    it(`returns ${label}`, async () => {
      const observed = await expectSameOnEveryRoute([{ kind: 'echo', value }]);
      expect(observed.outcome).toEqual({ outputs: [value] });
    });
  }

  it('a thrown error comes back as TaskFailedError with its cause rebuilt', async () => {
    const observed = await expectSameOnEveryRoute([{ kind: 'throw', value: 'bad input' }]);
    expect(observed.outcome).toMatchObject({ error: { name: 'TaskFailedError', cause: { name: 'RangeError', code: 'E_TABLE', message: 'bad input' } } });
  });

  it('console output reaches task-completed', async () => {
    const observed = await expectSameOnEveryRoute([{ kind: 'print', value: 'line' }]);
    expect(observed.events[0]).toContainEqual({
      completed: 'line',
      console: [
        { stream: 'stdout', text: 'out: line' },
        { stream: 'stderr', text: 'err: line' },
      ],
    });
  });

  it('a crashed worker: the task is retried and completes', async () => {
    const observed = await expectSameOnEveryRoute([{ kind: 'crashOnce', value: 'survived' }]);
    expect(observed.outcome).toEqual({ outputs: ['survived'] });
    expect(observed.events[0]).toContainEqual(expect.objectContaining({ retried: 2 }));
  });

  it('a crashed worker with no retries left fails the task', async () => {
    const observed = await expectSameOnEveryRoute([{ kind: 'crashOnce', value: 'lost' }], { retries: 0 });
    expect(observed.outcome).toMatchObject({ error: { name: 'WorkerCrashedError' } });
  });

  it('a task that outlives its timeout fails with TaskTimedOutError', async () => {
    const observed = await expectSameOnEveryRoute([{ kind: 'sleep', ms: 60_000, value: 'late' }], { timeoutMs: 40 });
    expect(observed.outcome).toMatchObject({ error: { name: 'TaskTimedOutError' } });
  });

  it('an input over the cap is refused at submit, naming its size', async () => {
    const observed = await expectSameOnEveryRoute([{ kind: 'echo', value: 'o'.repeat(MAX_ENVELOPE_BYTES) }]);
    expect(observed.outcome).toMatchObject({ error: { name: 'EnvelopeTooLargeError', message: expect.stringContaining('(input 0 of the map)') } });
    expect(observed.stats).toMatchObject({ submitted: 0 });
  });

  it('an input that cannot cross is refused at submit, naming its path', async () => {
    const observed = await expectSameOnEveryRoute([{ kind: 'echo', value: { nested: [1, () => 2] } }]);
    expect(observed.outcome).toMatchObject({ error: { name: 'UnsupportedValueError', message: expect.stringContaining('input.value.nested[1] is a function') } });
  });

  it('a batch of 600 mixed tasks, console output and a retried crash among them', async () => {
    const inputs = Array.from({ length: 600 }, (_, index) => {
      if (index === 250) return { kind: 'crashOnce', value: index };
      if (index % 97 === 0) return { kind: 'print', value: `line ${index}` };
      const [, value] = values[index % (values.length - 1)]!;
      return { kind: 'echo', value: index % 3 === 0 ? { index, value } : value };
    });
    const observed = await expectSameOnEveryRoute(inputs);
    expect((observed.outcome as { outputs: unknown[] }).outputs).toHaveLength(600);
    expect(observed.stats).toMatchObject({ submitted: 600, completed: 600, failed: 0, retried: 1 });
  });

  it('inputs from an async source, a thrown error among them', async () => {
    const inputs = Array.from({ length: 300 }, (_, index) => (index === 120 ? { kind: 'throw', value: 'at 120' } : { kind: 'echo', value: index }));
    const observed = await expectSameOnEveryRoute(inputs.slice(0, 120), { asyncSource: true });
    expect((observed.outcome as { outputs: unknown[] }).outputs).toEqual(inputs.slice(0, 120).map((input) => input.value));
    const failed = await expectSameOnEveryRoute([inputs[120]!], { asyncSource: true });
    expect(failed.outcome).toMatchObject({ error: { name: 'TaskFailedError', cause: { message: 'at 120' } } });
  });

  it('cancelled mid-batch (the signal aborts at the third submission): every task is cancelled', async () => {
    const inputs = Array.from({ length: 40 }, (_, index) => ({ kind: 'echo', value: index }));
    const observed = await expectSameOnEveryRoute(inputs, { abortAfterSubmitted: 3 });
    expect(observed.outcome).toMatchObject({ error: { name: 'TaskCancelledError' } });
    expect(observed.stats).toMatchObject({ cancelled: 40, completed: 0 });
    for (const list of observed.events) expect(list).toEqual(['submitted', 'cancelled']);
  });
});
