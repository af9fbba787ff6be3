import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { TaskKeyConflictError } from '../../errors/task-key-conflict-error.js';
import type { Master, MasterOptions } from '../../master/master.js';
import * as tasks from './conformance-tasks.js';

/** What the durable group needs beyond a transport factory (see `ConformanceOptions.durable`). */
export interface DurableConformanceOptions {
  /**
   * A module (path or URL) exporting `createConformanceTransport()`, loaded in a child process for
   * the kill test: its transport must reach the same store and backend as the suite's own
   * (pass the location through the environment; the child inherits it).
   */
  readonly transportModule: string | URL;
  /** Runs, with no master running, the tasks of `batch` that wait at the backend (results that arrive while the master is away). */
  readonly runWaitingTasks: (batch: string) => Promise<void>;
  /** How many times the backend created work for each task id of `batch`. */
  readonly countWork: (batch: string) => Promise<ReadonlyMap<string, number>>;
  /** How many tasks the killed `map` has (default 1,000). */
  readonly killTestTasks?: number;
}

type Start = (extra: Omit<MasterOptions, 'transport' | 'tasks'>) => Promise<Master>;
type Test = (title: string, body: () => Promise<void>) => void;

const newBatch = (label: string): string => `${label}-${randomBytes(4).toString('hex')}`;

/** The durable group: switched on by `durable: true`. */
export function durableGroupTests(test: Test, start: Start, options: DurableConformanceOptions | undefined): void {
  const needOptions = (): DurableConformanceOptions => {
    if (options === undefined) {
      throw new Error('The transport declares durable: pass ConformanceOptions.durable (transportModule, runWaitingTasks, countWork) so the durable group can run');
    }
    return options;
  };

  test('a master killed in the middle of a map is followed by one with the same batch that gets every output, creating no work twice', async () => {
    const durable = needOptions();
    const count = durable.killTestTasks ?? 1000;
    const batch = newBatch('killed');
    const inputs = Array.from({ length: count }, (_, index) => ({ ms: 2, value: index }));
    const child = spawn(process.execPath, [fileURLToPath(new URL('./durable-child.js', import.meta.url)), JSON.stringify({
      transportModule: durable.transportModule instanceof URL ? durable.transportModule.href : durable.transportModule,
      batch,
      inputs,
      reportAfter: Math.floor(count * 0.3),
    })], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const outcome = await new Promise<'progress' | 'finished' | 'exited'>((resolve) => {
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('progress\n')) resolve('progress');
        else if (stdout.includes('finished\n')) resolve('finished');
      });
      void exited.then(() => resolve('exited'));
    });
    if (outcome !== 'progress') throw new Error(`The child master did not get a third of the way (${outcome}): ${stderr.trim()}`);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');

    const master = await start({ batch });
    expect(master.stats().recovered).toBeGreaterThan(0);
    const outputs = await master.map(tasks.sleep, inputs);
    expect(outputs).toEqual(inputs.map((input) => input.value));
    const work = await durable.countWork(batch);
    expect(work.size).toBe(count);
    expect([...work.values()].filter((times) => times !== 1)).toEqual([]);
  });

  test('results that arrived while no master ran are delivered to the next master of the batch', async () => {
    const durable = needOptions();
    const batch = newBatch('away');
    const first = await start({ batch });
    const handles = await Promise.all([1, 2, 3, 4, 5].map((value) => first.submit(tasks.sleep, { ms: 1, value }, { key: `away-${value}` })));
    await first.detach();
    await Promise.all(handles.map((handle) => expect(handle.result).rejects.toThrow()));
    await durable.runWaitingTasks(batch);
    const second = await start({ batch });
    expect(second.stats().recovered).toBe(5);
    expect(second.recovered.map((handle) => handle.key).sort()).toEqual(['away-1', 'away-2', 'away-3', 'away-4', 'away-5']);
    const collected = new Map<string | undefined, unknown>();
    for await (const settled of second.results()) {
      expect(settled.status).toBe('completed');
      if (settled.status === 'completed') collected.set(settled.handle.key, settled.output);
    }
    expect(Object.fromEntries(collected)).toEqual({ 'away-1': 1, 'away-2': 2, 'away-3': 3, 'away-4': 4, 'away-5': 5 });
    expect([...(await durable.countWork(batch)).values()]).toEqual([1, 1, 1, 1, 1]);
  });

  test('a forced close leaves the open tasks to the next master; a result is delivered again until it was handed over', async () => {
    const durable = needOptions();
    const batch = newBatch('again');
    const first = await start({ batch });
    await first.submit(tasks.sleep, { ms: 1, value: 'kept' }, { key: 'kept' });
    await first.close({ force: true });
    await durable.runWaitingTasks(batch);
    // The result comes to the second master, which closes without handing it over...
    const second = await start({ batch });
    expect(second.recovered.map((handle) => handle.key)).toEqual(['kept']);
    await second.close({ force: true });
    // ...so the third gets it again, and hands it over by reading it.
    const third = await start({ batch });
    const [handle] = third.recovered;
    expect(await handle!.result).toBe('kept');
    await third.close();
    // Handed over: no longer recovered, but its key still names it: no new work.
    const fourth = await start({ batch });
    expect(fourth.recovered).toEqual([]);
    const again = await fourth.submit(tasks.sleep, { ms: 1, value: 'kept' }, { key: 'kept' });
    expect(await again.result).toBe('kept');
    expect([...(await durable.countWork(batch)).values()]).toEqual([1]);
  });

  test('batches are kept apart, and a key never names two inputs', async () => {
    const durable = needOptions();
    const one = newBatch('one');
    const two = newBatch('two');
    const first = await start({ batch: one });
    expect(await (await first.submit(tasks.echo, 'first', { key: 'same' })).result).toBe('first');
    await first.close();
    const second = await start({ batch: two });
    expect(second.recovered).toEqual([]);
    expect(await (await second.submit(tasks.echo, 'second', { key: 'same' })).result).toBe('second');
    await second.close();
    const third = await start({ batch: one });
    const conflict = await third.submit(tasks.echo, 'changed', { key: 'same' }).then((handle) => handle.result).catch((error: unknown) => error);
    expect(TaskKeyConflictError.isInstance(conflict)).toBe(true);
    expect((await durable.countWork(one)).get('k:same')).toBe(1);
    expect((await durable.countWork(two)).get('k:same')).toBe(1);
  });
}
