import { createMaster, TaskCancelledError, TransportError, TsmwError, WorkerCrashedError, type Master, type TaskDefinition } from '@tsmw/core';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalTransport, type LocalTransportOptions } from './create-local-transport.js';

const poolTasks = new URL('../test/fixtures/pool-tasks.mjs', import.meta.url);
const brokenTasks = new URL('../test/fixtures/broken-tasks.mjs', import.meta.url);

// The fixture is plain JavaScript; its tasks are typed loosely here.
const tasks = (await import(poolTasks.href)) as Record<string, TaskDefinition<never, unknown>>;
const task = (name: string): TaskDefinition<never, unknown> => tasks[name]!;

const open: Master[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((master) => master.close({ force: true }).catch(() => {})));
});

async function start(options: LocalTransportOptions, extra: { retries?: number } = {}): Promise<Master> {
  const master = await createMaster({ transport: createLocalTransport(options), tasks: poolTasks, ...extra });
  open.push(master);
  return master;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const isolation of ['thread', 'process'] as const) {
  describe(`local transport (${isolation}): crashes lose nothing`, () => {
    it('a worker that exits mid-task fails only that task, which the master retries; every task of the map completes', async () => {
      const master = await start({ workers: 2, isolation });
      const lost: string[] = [];
      master.on('task-retried', (event) => {
        expect(WorkerCrashedError.isInstance(event.error)).toBe(true);
        lost.push(event.taskId);
      });
      const inputs = Array.from({ length: 300 }, (_, index) => ({ value: index, crash: index % 50 === 7 }));
      const outputs = await master.map(task('exitOnce'), inputs as never[]);
      expect(outputs).toEqual(inputs.map((input) => input.value));
      // Six tasks crash their worker; at most those six (each on its own attempt) are retried.
      expect(lost.length).toBe(6);
      expect(master.stats().retried).toBe(6);
      expect(master.stats().completed).toBe(300);
    });

    it('an error thrown outside any task kills the worker; the task it ran is retried, the rest go on', async () => {
      const master = await start({ workers: 2, isolation });
      const inputs = Array.from({ length: 40 }, (_, index) => ({ value: index, crash: index === 3 || index === 20 }));
      const outputs = await master.map(task('throwOutsideOnce'), inputs as never[]);
      expect(outputs).toEqual(inputs.map((input) => input.value));
      expect(master.stats().retried).toBe(2);
    });

    it('a worker that runs out of memory (small resourceLimits) fails only its task, and is replaced', async () => {
      const master = await start({ workers: 2, isolation, resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } });
      const crashes: unknown[] = [];
      master.on('task-retried', (event) => crashes.push(event.error));
      const inputs = Array.from({ length: 20 }, (_, index) => ({ value: index, crash: index === 5 }));
      const outputs = await master.map(task('exhaustMemoryOnce'), inputs as never[]);
      expect(outputs).toEqual(inputs.map((input) => input.value));
      expect(crashes).toHaveLength(1);
      expect(WorkerCrashedError.isInstance(crashes[0])).toBe(true);
    });

    it('a task that crashes every time fails with WorkerCrashedError once its retries are spent', async () => {
      const master = await start({ workers: 1, isolation }, { retries: 1 });
      const handle = await master.submit(task('exhaustMemoryOnce'), { value: 1 } as never);
      expect(await handle.result).toBe(1);
      const crashing = await master.submit(task('exitOnce'), { value: 2, crash: true } as never);
      // attempt 1 crashes, attempt 2 (its one retry) succeeds
      expect(await crashing.result).toBe(2);
      const always = await master.submit(task('exitOnce'), { value: 3, crash: true } as never, { retries: 0 });
      const error = await always.result.then(() => undefined, (reason: unknown) => reason);
      expect(WorkerCrashedError.isInstance(error)).toBe(true);
      expect((error as WorkerCrashedError).exitCode).toBe(1);
      expect(await (await master.submit(task('add'), { a: 1, b: 2 } as never)).result).toBe(3);
    });
  });

  describe(`local transport (${isolation}): cancel`, () => {
    it('cancelling a running task that ignores its signal stops its worker after the grace period, and the pool recovers', async () => {
      const master = await start({ workers: 1, isolation, cancelGraceMs: 200 });
      const stuck = await master.submit(task('busyLoop'), { ms: 60_000 } as never);
      await sleep(300);
      const cancelledAt = Date.now();
      stuck.cancel();
      await expect(stuck.result).rejects.toSatisfy((error: unknown) => TaskCancelledError.isInstance(error));
      // The pool is usable again once the stuck worker is replaced, well before the 60 s loop ends.
      expect(await (await master.submit(task('add'), { a: 20, b: 22 } as never)).result).toBe(42);
      expect(Date.now() - cancelledAt).toBeLessThan(10_000);
      const outputs = await master.map(task('add'), Array.from({ length: 1000 }, (_, index) => ({ a: index, b: 1 })) as never[]);
      expect(outputs).toEqual(Array.from({ length: 1000 }, (_, index) => index + 1));
      expect(master.stats().retried).toBe(0);
    });

    it('tasks queued on a worker behind a stuck cancelled task are moved to another worker, not lost', async () => {
      const master = await start({ workers: 2, isolation, cancelGraceMs: 200 });
      // Warm up: tiny tasks teach the pool that tasks are short, so workers get many at once.
      await master.map(task('add'), Array.from({ length: 2000 }, (_, index) => ({ a: index, b: 0 })) as never[]);
      const stuck = master.submit(task('busyLoop'), { ms: 60_000 } as never);
      const followers = Array.from({ length: 50 }, (_, index) => master.submit(task('add'), { a: index, b: 100 } as never));
      const handles = await Promise.all([stuck, ...followers]);
      await sleep(300);
      handles[0]!.cancel();
      const outputs = await Promise.all(handles.slice(1).map((handle) => handle.result));
      expect(outputs).toEqual(Array.from({ length: 50 }, (_, index) => index + 100));
      expect(master.stats().retried).toBe(0);
      expect(master.stats().cancelled).toBe(1);
    });

    it('a task over its timeout that ignores its signal is stopped the same way', async () => {
      const master = await start({ workers: 1, isolation, cancelGraceMs: 100 });
      const slow = await master.submit(task('busyLoop'), { ms: 60_000 } as never, { timeoutMs: 200 });
      const error = await slow.result.then(() => undefined, (reason: unknown) => reason);
      expect(TsmwError.isInstance(error) && error.code).toBe('TSMW_TASK_TIMED_OUT');
      expect(await (await master.submit(task('add'), { a: 1, b: 1 } as never)).result).toBe(2);
    });
  });
}

describe('local transport: scheduling', () => {
  it('spreads slow tasks evenly over the workers', async () => {
    const master = await start({ workers: 2 });
    const outputs = (await master.map(task('busyLoop'), Array.from({ length: 8 }, () => ({ ms: 150 })) as never[])) as Array<{ threadId: number }>;
    const perWorker = new Map<number, number>();
    for (const output of outputs) perWorker.set(output.threadId, (perWorker.get(output.threadId) ?? 0) + 1);
    expect(perWorker.size).toBe(2);
    for (const count of perWorker.values()) expect(count).toBeGreaterThanOrEqual(3);
  });

  it('coalesces progress from a hot loop into a few events', async () => {
    const master = await start({ workers: 1, progressIntervalMs: 20 });
    const fractions: number[] = [];
    master.on('task-progress', (event) => fractions.push(event.fraction));
    expect(await (await master.submit(task('progressFlood'), { calls: 2_000_000 } as never)).result).toBe(2_000_000);
    expect(fractions.length).toBeLessThan(200);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
  });

  it('stops idle workers after idleTimeoutMs and starts them again on demand', async () => {
    const master = await start({ workers: 2, idleTimeoutMs: 50 });
    const first = (await master.map(task('whereAmI'), [{}, {}, {}, {}] as never[])) as Array<{ threadId: number }>;
    await sleep(300);
    const second = (await master.map(task('whereAmI'), [{}, {}, {}, {}] as never[])) as Array<{ threadId: number }>;
    const firstIds = new Set(first.map((output) => output.threadId));
    for (const output of second) expect(firstIds.has(output.threadId)).toBe(false);
  });

  it('gives workers the env option over the master environment', async () => {
    for (const isolation of ['thread', 'process'] as const) {
      const master = await start({ workers: 1, isolation, env: { TSMW_TEST_VALUE: 'from the env option' } });
      const output = (await (await master.submit(task('whereAmI'), {} as never)).result) as { env: string; pid: number };
      expect(output.env).toBe('from the env option');
      expect(output.pid === process.pid).toBe(isolation === 'thread');
    }
  });

  it('holds the master back when its queue is full, and never drops a task', async () => {
    const master = await start({ workers: 2, maxQueue: 16 });
    const handles = await Promise.all(Array.from({ length: 5000 }, (_, index) => master.submit(task('add'), { a: index, b: 1 } as never)));
    const outputs = await Promise.all(handles.map((handle) => handle.result));
    expect(outputs).toEqual(Array.from({ length: 5000 }, (_, index) => index + 1));
  });

  it('refuses to start when workers cannot load the task module', async () => {
    const transport = createLocalTransport({ workers: 2, env: { TSMW_BREAK_IN_WORKER: '1' } });
    const error = await createMaster({ transport, tasks: brokenTasks }).then(() => undefined, (reason: unknown) => reason);
    expect(TransportError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('refuses to load in a worker');
  });

  it('leaves no worker behind after close', async () => {
    const before = process.getActiveResourcesInfo().filter((name) => name === 'Worker' || name === 'MessagePort').length;
    const master = await start({ workers: 2 });
    await master.map(task('add'), [{ a: 1, b: 2 }] as never[]);
    await master.close();
    await sleep(50);
    const after = process.getActiveResourcesInfo().filter((name) => name === 'Worker' || name === 'MessagePort').length;
    expect(after).toBeLessThanOrEqual(before);
  });

  for (const isolation of ['thread', 'process'] as const) {
    for (const force of [false, true]) {
      it(`a process that closes its master (${isolation}, ${force ? 'forced' : 'graceful'}) ends by itself once the close has settled`, async () => {
        const script = fileURLToPath(new URL('../test/fixtures/close-and-exit.mjs', import.meta.url));
        const { stdout } = await promisify(execFile)(process.execPath, [script, isolation, force ? 'force' : 'graceful'], { timeout: 30_000 });
        expect(stdout.trim()).toBe('closed after 1000 tasks');
      });
    }
  }
});
