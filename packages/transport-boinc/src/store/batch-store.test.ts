import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchInUseError } from '../errors/batch-in-use-error.js';
import { BatchStoreError } from '../errors/batch-store-error.js';
import { BatchStore, processStartTime, type NewTaskRecord } from './batch-store.js';
import { availableSqliteEngines } from '../../test/sqlite-engines.js';

let directory: string;
const open: BatchStore[] = [];

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'tsmw-store-'));
});
afterEach(async () => {
  for (const store of open.splice(0)) store.close();
  await rm(directory, { recursive: true, force: true });
});

const engines = availableSqliteEngines();
let engine = engines[0]!;

function openStore(overrides: Partial<Parameters<typeof BatchStore.open>[0]> = {}): BatchStore {
  const store = BatchStore.open({ path: join(directory, 'batch.sqlite'), batch: 'pi-1', app: 'pi', mode: 'on-server', location: '/srv/project', engine, ...overrides });
  open.push(store);
  return store;
}

function task(key: string | undefined, attempt = 1, taskId = `id-${key ?? 'none'}`): NewTaskRecord {
  return { key, taskId, taskName: 'square', inputHash: `hash-${key}`, attempt, generation: attempt, jobName: `tsmw_pi-1_k${key ?? 'x'}_a${attempt}`, deadline: undefined, submittedAt: 1000 };
}

describe.each(engines.map((each) => [each.name, each] as const))('batch store on %s', (_name, each) => {
  beforeEach(() => {
    engine = each;
  });

  it('runs on the engine under test', () => {
    expect(openStore().engine).toBe(each.name);
  });

  it('records a chunk before it exists at BOINC, then its jobs as created', () => {
    const store = openStore();
    const chunkId = store.recordChunk({ arguments: ['--min_quorum', '1'] }, [task('0'), task('1')]);
    expect(store.unresolvedChunks().map((chunk) => [chunk.id, chunk.jobNames])).toEqual([[chunkId, ['tsmw_pi-1_k0_a1', 'tsmw_pi-1_k1_a1']]]);
    expect(store.taskByKey('0', 'x')?.state).toBe('creating');
    store.chunkCreated(chunkId);
    expect(store.unresolvedChunks()).toEqual([]);
    expect(store.taskByKey('1', 'x')).toMatchObject({ state: 'created', attempt: 1, jobName: 'tsmw_pi-1_k1_a1', inputHash: 'hash-1', taskId: 'id-1' });
    expect(store.chunk(chunkId)?.plan).toEqual({ arguments: ['--min_quorum', '1'] });
  });

  it('never records a key twice', () => {
    const store = openStore();
    store.recordChunk({}, [task('0')]);
    expect(() => store.recordChunk({}, [task('0')])).toThrow(/UNIQUE/);
    expect(store.counts().total).toBe(1);
  });

  it('keeps results, failures and acknowledgements across a reopen', () => {
    let store = openStore();
    const chunkId = store.recordChunk({}, [task('0'), task('1'), task('2')]);
    store.chunkCreated(chunkId);
    const zero = store.taskByKey('0', '')!;
    const one = store.taskByKey('1', '')!;
    expect(store.recordResult(zero.seq, zero.jobName, 'results/tsmw_pi-1_k0_a1.out')).toBe(true);
    expect(store.recordResult(zero.seq, zero.jobName, 'results/again')).toBe(false);
    expect(store.recordFailure(one.seq, 'tsmw_pi-1_k1_a9', { kind: 'job-failed', message: 'x' })).toBe(false); // another attempt's job
    expect(store.recordFailure(one.seq, one.jobName, { kind: 'job-failed', message: 'too many errors', errorMask: 2 })).toBe(true);
    store.acknowledge(['id-0']);
    store.close();
    open.length = 0;

    store = openStore();
    expect(store.deliverableTasks().map((stored) => stored.key)).toEqual(['1']);
    expect(store.openTasks().map((stored) => [stored.key, stored.state])).toEqual([
      ['1', 'failed'],
      ['2', 'created'],
    ]);
    expect(store.taskByKey('0', '')).toMatchObject({ state: 'returned', acknowledged: true, resultFile: 'results/tsmw_pi-1_k0_a1.out' });
    expect(store.taskByKey('1', '')?.failure).toEqual({ kind: 'job-failed', message: 'too many errors', errorMask: 2 });
    expect(store.counts()).toEqual({ total: 3, creating: 0, created: 1, returned: 1, failed: 1, cancelled: 0, acknowledged: 1 });
  });

  it('creates a retry as the next attempt of the same task, and maps both jobs back to it', () => {
    const store = openStore();
    store.chunkCreated(store.recordChunk({}, [task('7')]));
    const first = store.taskByKey('7', '')!;
    store.recordFailure(first.seq, first.jobName, { kind: 'job-failed', message: 'lost', errorMask: 8 });
    const retry = task('7', 2);
    store.recordChunk({}, [retry], new Map([[retry.jobName, first.seq]]));
    const second = store.taskByKey('7', '')!;
    expect(second).toMatchObject({ seq: first.seq, attempt: 2, state: 'creating', jobName: 'tsmw_pi-1_k7_a2', failure: undefined });
    expect(store.job('tsmw_pi-1_k7_a1')).toMatchObject({ attempt: 1, task: { seq: first.seq, attempt: 2 } });
    expect(store.job('tsmw_pi-1_k7_a2')?.attempt).toBe(2);
    expect(store.job('tsmw_pi-1_k9_a1')).toBeUndefined();
  });

  it('settles a chunk job by job', () => {
    const store = openStore();
    const chunkId = store.recordChunk({}, [task('0'), task('1')]);
    store.chunkSettled(chunkId, ['tsmw_pi-1_k0_a1'], new Map([['tsmw_pi-1_k1_a1', { kind: 'create-work' as const, message: 'bad', exitStatus: 1 }]]));
    expect(store.taskByKey('0', '')?.state).toBe('created');
    expect(store.taskByKey('1', '')).toMatchObject({ state: 'failed', failure: { kind: 'create-work', exitStatus: 1 } });
    expect(store.chunk(chunkId)?.state).toBe('created');
  });

  it('binds a new task id to a stored key, and acknowledges by it', () => {
    const store = openStore();
    const chunkId = store.recordChunk({}, [task('a')]);
    store.chunkCreated(chunkId);
    const stored = store.taskByKey('a', '')!;
    store.bindTaskId(stored.seq, 'new-id');
    store.recordResult(stored.seq, stored.jobName, 'results/a');
    store.acknowledge(['id-a']);
    expect(store.taskByKey('a', '')?.acknowledged).toBe(false);
    store.acknowledge(['new-id']);
    expect(store.taskByKey('a', '')?.acknowledged).toBe(true);
  });

  it('stores a task without a key under its id', () => {
    const store = openStore();
    store.recordChunk({}, [task(undefined, 1, 'lonely')]);
    expect(store.taskByKey(undefined, 'lonely')).toMatchObject({ key: undefined, taskId: 'lonely' });
    expect(store.taskByKey('lonely', 'lonely')).toBeUndefined();
  });

  it('cancels open tasks, owing a server-side abort until done', () => {
    const store = openStore();
    store.chunkCreated(store.recordChunk({}, [task('0'), task('1')]));
    const zero = store.taskByKey('0', '')!;
    const one = store.taskByKey('1', '')!;
    store.recordResult(one.seq, one.jobName, 'results/1');
    expect(store.requestCancel([zero.seq, one.seq]).map((stored) => stored.key)).toEqual(['0']);
    expect(store.pendingCancels().map((stored) => stored.key)).toEqual(['0']);
    expect(store.recordResult(zero.seq, zero.jobName, 'results/0')).toBe(false);
    store.cancelDone([zero.seq]);
    expect(store.pendingCancels()).toEqual([]);
    expect(store.openTasks().map((stored) => stored.key)).toEqual(['1']);
  });

  it('refuses a batch of another app, mode or project, and a foreign file', async () => {
    openStore().close();
    open.length = 0;
    expect(() => openStore({ app: 'other' })).toThrow(/belongs to app "pi", not "other"/);
    expect(() => openStore({ location: '/srv/elsewhere' })).toThrow(/belongs to project "\/srv\/project"/);
    expect(() => openStore({ mode: 'remote' })).toThrow(BatchStoreError);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(directory, 'junk.sqlite'), 'this is not a database, and it is long enough to be read as a header '.repeat(20));
    const error = (() => {
      try {
        openStore({ path: join(directory, 'junk.sqlite') });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(BatchStoreError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('junk.sqlite');
  });

  it('lets one live master hold a batch, and takes over from a dead one', async () => {
    openStore().close();
    open.length = 0;
    // A second process claims the batch through the built package.
    const builtEntry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `
      const { BatchStore } = await import(${JSON.stringify(builtEntry)});
      const store = BatchStore.open({ path: ${JSON.stringify(join(directory, 'batch.sqlite'))}, batch: 'pi-1', app: 'pi', mode: 'on-server', location: '/srv/project' });
      store.claim();
      process.stdout.write('claimed\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (data: Buffer) => (data.toString().includes('claimed') ? resolve() : undefined));
        child.once('exit', (code) => reject(new Error(`the holder exited early (${code})`)));
      });
      const store = openStore();
      const error = (() => {
        try {
          store.claim();
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(BatchInUseError.isInstance(error)).toBe(true);
      expect((error as BatchInUseError).holder.pid).toBe(child.pid);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      store.claim();
      store.claim(); // claiming again is harmless
      const twin = BatchStore.open({ path: join(directory, 'batch.sqlite'), batch: 'pi-1', app: 'pi', mode: 'on-server', location: '/srv/project', engine });
      open.push(twin);
      expect(() => twin.claim()).toThrow(/held by another master of this process/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('processStartTime', () => {
  it('counts a process that ended but was not reaped (a zombie) as gone, and a live one as alive', async () => {
    if (process.platform !== 'linux') return;
    // sh starts `sleep 0` in the background, prints its pid, then becomes `sleep 30`, which never
    // reaps it: once `sleep 0` ends it stays a zombie until its parent ends.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = await new Promise<number>((resolve) => parent.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim()))));
      const { readFileSync } = await import('node:fs');
      const state = (): string => {
        const stat = readFileSync(`/proc/${zombie}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
      };
      await vi.waitFor(() => expect(state()).toBe('Z'), { timeout: 30_000, interval: 10 });
      expect(processStartTime(zombie)).toBeUndefined();
      expect(processStartTime(parent.pid!)).toMatch(/^\d+$/);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
