import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EnvelopeTooLargeError } from '../../errors/envelope-too-large-error.js';
import { MasterClosedError } from '../../errors/master-closed-error.js';
import { TaskCancelledError } from '../../errors/task-cancelled-error.js';
import { TaskFailedError } from '../../errors/task-failed-error.js';
import { TaskTimedOutError } from '../../errors/task-timed-out-error.js';
import { TsmwError } from '../../errors/tsmw-error.js';
import { createMaster } from '../../master/create-master.js';
import type { Master, MasterOptions } from '../../master/master.js';
import type { Transport } from '../../transport/transport-v1.js';
import * as tasks from './conformance-tasks.js';
import { conformanceTasksUrl } from './conformance-tasks-url.js';
import { durableGroupTests, type DurableConformanceOptions } from './durable-group.js';
import { valueShapesGroup } from './value-shapes-group.js';

/** The groups of the suite; each runs only where the transport's capabilities enable it. */
export type ConformanceGroup =
  | 'round-trip'
  | 'map-order'
  | 'completion-order'
  | 'task-errors'
  | 'console'
  | 'cancel'
  | 'timeouts'
  | 'scale'
  | 'close'
  | 'oversized'
  | 'progress'
  | 'checkpoint'
  | 'files'
  | 'stats'
  | 'schedule'
  | 'value-shapes'
  | 'durable';

export interface ConformanceOptions {
  /** How many tasks the transport runs at the same time (at least 1; default 2). */
  readonly parallelism?: number;
  /** How many tasks the scale group runs (default 10,000). */
  readonly scaleTasks?: number;
  /** Per-test time limit in milliseconds (default 120,000). */
  readonly testTimeoutMs?: number;
  /** Extra master options (for example a smaller `maxInFlight`). */
  readonly masterOptions?: Omit<MasterOptions, 'transport' | 'tasks'>;
  /** Groups to leave out, each with the reason (printed as the skip message). */
  readonly skip?: Partial<Record<ConformanceGroup, string>>;
  /** Required when the transport declares `durable`: how the durable group reaches its backend. */
  readonly durable?: DurableConformanceOptions;
}

/**
 * The behaviour every tsmw transport must show, as a vitest suite. Call it from a test file of
 * the transport's own package:
 *
 * ```ts
 * describeTransportConformance('local transport', () => createLocalTransport({ workers: 2 }));
 * ```
 *
 * Each test creates a fresh transport and a master over the suite's task module, and closes
 * both. Groups switch on the declared capabilities (cancel, progress, checkpoint, files,
 * latency); a transport that declares a capability must pass its group.
 */
export function describeTransportConformance(
  name: string,
  createTransport: () => Transport | Promise<Transport>,
  options: ConformanceOptions = {},
): void {
  const parallelism = Math.max(1, options.parallelism ?? 2);
  const scaleTasks = options.scaleTasks ?? 10_000;
  const timeout = options.testTimeoutMs ?? 120_000;
  const open: Master[] = [];

  const start = async (extra: Omit<MasterOptions, 'transport' | 'tasks'> = {}): Promise<Master> => {
    // Every master gets a batch of its own unless the test names one (durable transports need one).
    const batch = extra.batch ?? `conformance-${randomBytes(4).toString('hex')}`;
    const master = await createMaster({ transport: await createTransport(), tasks: conformanceTasksUrl(), ...options.masterOptions, ...extra, batch });
    open.push(master);
    return master;
  };

  // Capabilities are read from one transport made up front (and never started).
  let capabilitiesPromise: Promise<Transport['capabilities']> | undefined;
  const capabilities = async (): Promise<Transport['capabilities']> => {
    capabilitiesPromise ??= Promise.resolve(createTransport()).then((transport) => transport.capabilities);
    return capabilitiesPromise;
  };

  const group = (groupName: ConformanceGroup, body: () => void): void => {
    describe(groupName, () => {
      const skipReason = options.skip?.[groupName];
      if (skipReason !== undefined) {
        it.skip(`skipped: ${skipReason}`, () => {});
        return;
      }
      body();
    });
  };

  /** A test that runs only if the transport's capabilities allow; otherwise it is skipped with the reason. */
  const test = (title: string, needs: ((c: Transport['capabilities']) => string | undefined) | undefined, body: () => Promise<void>): void => {
    it(title, async (context) => {
      if (needs !== undefined) {
        const reason = needs(await capabilities());
        if (reason !== undefined) {
          context.skip(reason);
          return;
        }
      }
      await body();
    }, timeout);
  };

  const none = (): undefined => undefined;

  describe(`transport conformance: ${name}`, () => {
    afterEach(async () => {
      const masters = open.splice(0);
      await Promise.all(masters.map((master) => master.close({ force: true }).catch(() => {})));
    });

    group('round-trip', () => {
      const big = new Uint8Array(1024 * 1024).map((_, index) => (index * 7) % 256);
      const shapes: Array<[string, unknown]> = [
        ['null', null],
        ['booleans', [true, false]],
        ['integers', [0, 1, -1, 127, 128, 255, 65_535, 2 ** 31, -(2 ** 31), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]],
        ['floats', [0.5, -1.25, Math.PI, 1e-300, 1e300, Number.EPSILON]],
        ['unicode strings', ['', 'plain', 'héllo wörld', '日本語のテキスト', '🚀🎉 emoji', 'a\u0000b', 'x'.repeat(70_000)]],
        ['nested', { a: { b: { c: [1, { d: ['deep', { e: null }] }] } }, list: [[1, 2], [3, [4, [5]]]] }],
        ['binary', new Uint8Array([0, 1, 2, 253, 254, 255])],
        ['big binary (1 MiB)', big],
        ['big array', Array.from({ length: 100_000 }, (_, index) => index)],
        ['date', new Date(Date.UTC(2026, 10, 25, 3, 4, 5, 678))],
        ['empty containers', { array: [], object: {}, bytes: new Uint8Array(0) }],
      ];
      for (const [shape, value] of shapes) {
        test(`round-trips ${shape}`, none, async () => {
          const master = await start();
          const handle = await master.submit(tasks.echo, value);
          expect(await handle.result).toEqual(value);
        });
      }
      test('submit then result (PyMW get_result(task))', none, async () => {
        const master = await start();
        const handle = await master.submit(tasks.add, { a: 2, b: 40 });
        expect(typeof handle.id).toBe('string');
        expect(handle.taskName).toBe('add');
        expect(await handle.result).toBe(42);
        expect(handle.status).toBe('completed');
      });
    });

    group('map-order', () => {
      test('map returns outputs in input order whatever the completion order', none, async () => {
        const master = await start();
        const inputs = Array.from({ length: 60 }, (_, index) => ({ ms: (index * 37) % 23, value: index }));
        expect(await master.map(tasks.sleep, inputs)).toEqual(inputs.map((input) => input.value));
      });
      test('map over an async generator with a small concurrency', none, async () => {
        const master = await start();
        // About 70 round trips through a window of 7 (5 on a batch transport, where each takes seconds).
        const count = (await capabilities()).latency === 'batch' ? 35 : 500;
        async function* numbers(): AsyncGenerator<{ a: number; b: number }> {
          for (let index = 0; index < count; index += 1) yield { a: index, b: 1 };
        }
        const outputs = await master.map(tasks.add, numbers(), { concurrency: 7 });
        expect(outputs).toEqual(Array.from({ length: count }, (_, index) => index + 1));
      });
      test('mapStream yields in input order', none, async () => {
        const master = await start();
        const seen: number[] = [];
        for await (const output of master.mapStream(tasks.sleep, [{ ms: 30, value: 0 }, { ms: 0, value: 1 }, { ms: 10, value: 2 }])) seen.push(output as number);
        expect(seen).toEqual([0, 1, 2]);
      });
      test('mapReduce (PyMW MapReduce) sums squares', none, async () => {
        const master = await start();
        const inputs = Array.from({ length: 100 }, (_, index) => index + 1);
        expect(await master.mapReduce(tasks.square, tasks.sum, inputs, { reducers: 4 })).toBe(338_350);
        expect(await master.mapReduce(tasks.square, tasks.sum, [3], { reducers: 8 })).toBe(9);
      });
      test('the first failure rejects map with the task error', none, async () => {
        const master = await start();
        const failing = master.map(tasks.fail, [{ message: 'first' }, { message: 'second' }]);
        await expect(failing).rejects.toSatisfy((error: unknown) => TaskFailedError.isInstance(error));
      });
    });

    group('completion-order', () => {
      test('results() yields tasks in the order they settle', none, async () => {
        const master = await start();
        const settledOrder: string[] = [];
        master.on('task-completed', (event) => settledOrder.push(event.taskId));
        const handles = await Promise.all([40, 0, 20, 5, 30].map((ms) => master.submit(tasks.sleep, { ms })));
        const yielded: string[] = [];
        for await (const settled of master.results()) {
          expect(settled.status).toBe('completed');
          yielded.push(settled.id);
        }
        expect([...yielded].sort()).toEqual(handles.map((handle) => handle.id).sort());
        expect(yielded).toEqual(settledOrder.filter((id) => yielded.includes(id)));
      });
      test('a quick task submitted after a slow one comes first', (c) => (parallelism < 2 ? 'needs two tasks at once' : c.latency === 'batch' ? 'batch latency' : undefined), async () => {
        const master = await start();
        const slow = await master.submit(tasks.sleep, { ms: 1500, value: 'slow' });
        const quick = await master.submit(tasks.sleep, { ms: 0, value: 'quick' });
        const order: string[] = [];
        for await (const settled of master.results([slow, quick])) order.push(settled.status === 'completed' ? String(settled.output) : 'failed');
        expect(order).toEqual(['quick', 'slow']);
      });
      test('results() without arguments skips tasks whose result was read', none, async () => {
        const master = await start();
        const claimed = await master.submit(tasks.add, { a: 1, b: 1 });
        const unclaimed = await master.submit(tasks.add, { a: 2, b: 2 });
        expect(await claimed.result).toBe(2);
        const ids: string[] = [];
        for await (const settled of master.results()) ids.push(settled.id);
        expect(ids).toEqual([unclaimed.id]);
      });
    });

    group('task-errors', () => {
      test('a thrown error comes back as TaskFailedError with name, message, code, stack and cause', none, async () => {
        const master = await start();
        const handle = await master.submit(tasks.fail, { message: 'bad input', code: 'E_BAD_INPUT', name: 'RangeError' });
        const error = await handle.result.then(() => undefined, (reason: unknown) => reason);
        expect(TaskFailedError.isInstance(error)).toBe(true);
        expect(TsmwError.isInstance(error)).toBe(true);
        const failed = error as TaskFailedError;
        expect(failed.code).toBe('TSMW_TASK_FAILED');
        expect(failed.remoteCode).toBe('E_BAD_INPUT');
        expect(failed.remote.name).toBe('RangeError');
        expect(failed.remote.message).toBe('bad input');
        expect(failed.remote.stack).toContain('bad input');
        const cause = failed.cause as Error & { code?: string };
        expect(cause.name).toBe('RangeError');
        expect(cause.code).toBe('E_BAD_INPUT');
        expect((cause.cause as Error).name).toBe('TypeError');
        expect(handle.status).toBe('failed');
      });
      test('an unknown task name is refused at submit', none, async () => {
        const master = await start();
        const { defineTask } = await import('../../task/define-task.js');
        await expect(master.submit(defineTask('notInTheModule', () => 1), undefined as never)).rejects.toSatisfy(
          (error: unknown) => TsmwError.isInstance(error) && error.code === 'TSMW_INVALID_ARGUMENT',
        );
      });
      test('a failure does not disturb other tasks', none, async () => {
        const master = await start();
        const outcomes = await Promise.allSettled(
          (await Promise.all([master.submit(tasks.add, { a: 1, b: 2 }), master.submit(tasks.fail, { message: 'x' }), master.submit(tasks.add, { a: 3, b: 4 })])).map(
            (handle) => handle.result,
          ),
        );
        expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      });
    });

    group('console', () => {
      test('console output comes back with the result and with the error', none, async () => {
        const master = await start();
        const ok = await master.submit(tasks.chatty, { lines: ['one', 'two', 'three'] });
        const failing = await master.submit(tasks.chatty, { lines: ['before the failure'], fail: true });
        const collected: Record<string, unknown> = {};
        for await (const done of master.results([ok, failing])) collected[done.id] = done;
        const okSettled = collected[ok.id] as { status: string; console: Array<{ stream: string; text: string }> };
        expect(okSettled.status).toBe('completed');
        expect(okSettled.console).toEqual([
          { stream: 'stdout', text: 'one' },
          { stream: 'stderr', text: 'two' },
          { stream: 'stdout', text: 'three' },
        ]);
        const failedSettled = collected[failing.id] as { status: string; error: TaskFailedError };
        expect(failedSettled.status).toBe('failed');
        expect(failedSettled.error.console).toEqual([{ stream: 'stdout', text: 'before the failure' }]);
      });
    });

    group('cancel', () => {
      const needsCancel = (c: Transport['capabilities']): string | undefined => (c.cancel ? undefined : 'the transport does not declare cancel');
      test('cancel before the task runs', needsCancel, async () => {
        const master = await start({ maxInFlight: 1 });
        const blocker = await master.submit(tasks.sleep, { ms: 300 });
        const queued = await master.submit(tasks.add, { a: 1, b: 1 });
        queued.cancel();
        await expect(queued.result).rejects.toSatisfy((error: unknown) => TaskCancelledError.isInstance(error));
        expect(queued.status).toBe('cancelled');
        expect(await blocker.result).toBe(300);
        expect(master.stats().cancelled).toBe(1);
      });
      test('cancel while the task runs aborts its signal, and the transport goes on', needsCancel, async () => {
        const master = await start();
        const running = await master.submit(tasks.sleep, { ms: 30_000 });
        await new Promise((resolve) => setTimeout(resolve, 300));
        running.cancel();
        await expect(running.result).rejects.toSatisfy((error: unknown) => TaskCancelledError.isInstance(error));
        const after = await master.submit(tasks.add, { a: 20, b: 22 });
        expect(await after.result).toBe(42);
      });
      test('an AbortSignal cancels', needsCancel, async () => {
        const master = await start();
        const controller = new AbortController();
        const handle = await master.submit(tasks.sleep, { ms: 30_000 }, { signal: controller.signal });
        setTimeout(() => controller.abort(), 100);
        await expect(handle.result).rejects.toSatisfy((error: unknown) => TaskCancelledError.isInstance(error));
      });
    });

    group('timeouts', () => {
      test('a task over its timeoutMs fails with TaskTimedOutError, and the transport goes on', (c) => (c.cancel ? undefined : 'the transport does not declare cancel'), async () => {
        const master = await start();
        const slow = await master.submit(tasks.sleep, { ms: 30_000 }, { timeoutMs: 200 });
        const error = await slow.result.then(() => undefined, (reason: unknown) => reason);
        expect(TaskTimedOutError.isInstance(error)).toBe(true);
        expect((error as TaskTimedOutError).timeoutMs).toBe(200);
        expect(await (await master.submit(tasks.add, { a: 1, b: 2 })).result).toBe(3);
      });
    });

    group('scale', () => {
      test(`${scaleTasks} tasks through map with bounded work in flight`, none, async () => {
        const master = await start();
        const concurrency = 256;
        let maxOpen = 0;
        function* inputs(): Generator<{ a: number; b: number }> {
          for (let index = 0; index < scaleTasks; index += 1) {
            if (index % 97 === 0) {
              const stats = master.stats();
              maxOpen = Math.max(maxOpen, stats.queued + stats.running);
            }
            yield { a: index, b: index };
          }
        }
        let total = 0;
        let count = 0;
        for await (const output of master.mapStream(tasks.add, inputs(), { concurrency })) {
          total += output as number;
          count += 1;
        }
        expect(count).toBe(scaleTasks);
        expect(total).toBe(scaleTasks * (scaleTasks - 1));
        expect(maxOpen).toBeLessThanOrEqual(concurrency);
        const stats = master.stats();
        expect(stats.completed).toBe(scaleTasks);
        expect(stats.queued + stats.running).toBe(0);
      });
    });

    group('close', () => {
      test('close() waits for open tasks; submit afterwards is refused', none, async () => {
        const master = await start();
        const handles = await Promise.all([10, 20, 30].map((ms) => master.submit(tasks.sleep, { ms })));
        const results = handles.map((handle) => handle.result);
        await master.close();
        expect(await Promise.all(results)).toEqual([10, 20, 30]);
        await expect(master.submit(tasks.add, { a: 1, b: 1 })).rejects.toSatisfy((error: unknown) => MasterClosedError.isInstance(error));
      });
      test('close({ force: true }) while busy settles every open task', none, async () => {
        const master = await start();
        const capabilitiesNow = await capabilities();
        const handles = await Promise.all(Array.from({ length: 8 }, () => master.submit(tasks.sleep, { ms: 60_000 })));
        await new Promise((resolve) => setTimeout(resolve, 100));
        await master.close({ force: true });
        const outcomes = await Promise.allSettled(handles.map((handle) => handle.result));
        for (const outcome of outcomes) {
          expect(outcome.status).toBe('rejected');
          const reason = (outcome as PromiseRejectedResult).reason;
          expect(capabilitiesNow.durable ? MasterClosedError.isInstance(reason) : TaskCancelledError.isInstance(reason)).toBe(true);
        }
      });
    });

    group('oversized', () => {
      test('an envelope over the cap is refused with EnvelopeTooLargeError, and the master goes on', none, async () => {
        const master = await start({ maxEnvelopeBytes: 64 * 1024 });
        const error = await master.submit(tasks.echo, new Uint8Array(100 * 1024)).then(() => undefined, (reason: unknown) => reason);
        expect(EnvelopeTooLargeError.isInstance(error)).toBe(true);
        expect((error as EnvelopeTooLargeError).maxBytes).toBe(64 * 1024);
        expect(await (await master.submit(tasks.add, { a: 1, b: 1 })).result).toBe(2);
      });
      test('an output over the cap fails that task with EnvelopeTooLargeError data', none, async () => {
        const master = await start({ maxEnvelopeBytes: 64 * 1024 });
        const error = await (await master.submit(tasks.blob, { bytes: 100 * 1024 })).result.then(() => undefined, (reason: unknown) => reason);
        expect(TaskFailedError.isInstance(error)).toBe(true);
        expect((error as TaskFailedError).remoteCode).toBe('TSMW_ENVELOPE_TOO_LARGE');
      });
    });

    group('progress', () => {
      test('progress reaches task-progress events', (c) => (c.progress ? undefined : 'the transport does not declare progress'), async () => {
        const master = await start();
        const fractions: number[] = [];
        master.on('task-progress', (event) => fractions.push(event.fraction));
        expect(await (await master.submit(tasks.progress, { steps: 4, ms: 30 })).result).toBe(4);
        expect(fractions.length).toBeGreaterThan(0);
        expect(fractions.every((fraction) => fraction > 0 && fraction <= 1)).toBe(true);
        expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
      });
    });

    group('checkpoint', () => {
      test('a retried task restores its checkpoint', (c) => (c.checkpoint ? undefined : 'the transport does not declare checkpoint'), async () => {
        const master = await start();
        const output = await (await master.submit(tasks.resumable, { state: 1234 }, { retries: 1 })).result;
        expect(output).toEqual({ restored: 1234, attempt: 2 });
      });
    });

    group('files', () => {
      test('data files reach context.file', (c) => (c.files ? undefined : 'the transport does not declare files'), async () => {
        const master = await start();
        const data = new Uint8Array([9, 8, 7, 6, 5]);
        const handle = await master.submit(tasks.readData, { name: 'data.bin' }, { files: { 'data.bin': data } });
        expect(await handle.result).toEqual({ size: 5, head: [9, 8, 7, 6] });
      });
      test('map sends each input its own files', (c) => (c.files ? undefined : 'the transport does not declare files'), async () => {
        const master = await start();
        const sizes = [1, 4, 2];
        const outputs = await master.map(tasks.readData, sizes.map(() => ({ name: 'part.bin' })), {
          files: (_input, index) => ({ 'part.bin': new Uint8Array(sizes[index]!).fill(index + 1) }),
        });
        expect(outputs).toEqual([
          { size: 1, head: [1] },
          { size: 4, head: [2, 2, 2, 2] },
          { size: 2, head: [3, 3] },
        ]);
      });
      test('a file name that could escape a directory is refused', (c) => (c.files ? undefined : 'the transport does not declare files'), async () => {
        const master = await start();
        await expect(master.submit(tasks.readData, { name: 'x' }, { files: { '../escape': new Uint8Array(1) } })).rejects.toSatisfy(
          (error: unknown) => TsmwError.isInstance(error) && error.code === 'TSMW_INVALID_ARGUMENT',
        );
      });
    });

    group('stats', () => {
      test('stats count tasks and summarise their times', none, async () => {
        const master = await start();
        await master.map(tasks.add, Array.from({ length: 20 }, (_, index) => ({ a: index, b: 0 })));
        await master.submit(tasks.fail, { message: 'counted' }).then((handle) => handle.result.catch(() => undefined));
        const stats = master.stats();
        expect(stats.submitted).toBe(21);
        expect(stats.completed).toBe(20);
        expect(stats.failed).toBe(1);
        expect(stats.byTask['add']?.completed).toBe(20);
        expect(stats.byTask['add']?.wall.count).toBe(20);
        expect(stats.byTask['add']?.wall.meanMs).toBeGreaterThanOrEqual(0);
        expect(stats.tasksPerSecond).toBeGreaterThan(0);
      });
    });

    group('value-shapes', () => valueShapesGroup({ test, start }));

    group('schedule', () => {
      test('a schedule hook picks which queued task goes next', none, async () => {
        const master = await start({ maxInFlight: 1, schedule: (queue) => queue.length - 1 });
        const order: number[] = [];
        master.on('task-completed', (event) => order.push(event.output as number));
        const pending = [1, 2, 3, 4, 5].map((value) => master.submit(tasks.sleep, { ms: 5, value }));
        const handles = await Promise.all(pending);
        await Promise.all(handles.map((handle) => handle.result));
        expect(order).toEqual([5, 4, 3, 2, 1]);
      });
    });

    group('durable', () => {
      const needsDurable = (c: Transport['capabilities']): string | undefined => (c.durable ? undefined : 'the transport is not durable');
      durableGroupTests((title, body) => test(title, needsDurable, body), start, options.durable);
    });
  });
}
