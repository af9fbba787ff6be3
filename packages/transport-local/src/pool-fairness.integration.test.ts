import { createMaster, type Master, type TaskDefinition } from '@tsmw/core';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalTransport, type LocalTransportOptions } from './create-local-transport.js';

// After a burst of tiny tasks each worker may hold a thousand tasks at once; long tasks that
// follow must still run side by side. These tests assert where tasks ran and what overlapped,
// never how long anything took.

const poolTasks = new URL('../test/fixtures/pool-tasks.mjs', import.meta.url);
const tasks = (await import(poolTasks.href)) as Record<string, TaskDefinition<never, unknown>>;
const task = (name: string): TaskDefinition<never, unknown> => tasks[name]!;

interface Ran {
  readonly threadId: number;
  readonly pid: number;
  readonly ms?: number;
  readonly startedAt?: number;
  readonly endedAt?: number;
}

const open: Master[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await Promise.all(open.splice(0).map((master) => master.close({ force: true }).catch(() => {})));
});

async function start(options: LocalTransportOptions): Promise<Master> {
  const master = await createMaster({ transport: createLocalTransport(options), tasks: poolTasks });
  open.push(master);
  return master;
}

const tinyBurst = (master: Master): Promise<unknown[]> => master.map(task('add'), Array.from({ length: 2000 }, (_, index) => ({ a: index, b: 1 })) as never[]);

/** A server the `waitForSignal` task connects to; `release()` lets every connected task return. */
async function openGate(): Promise<{ port: number; connected: Promise<void>; release: () => void }> {
  const sockets: Socket[] = [];
  let onConnected!: () => void;
  const connected = new Promise<void>((resolve) => (onConnected = resolve));
  const server = createServer((socket) => {
    sockets.push(socket);
    onConnected();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = (): void => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
  cleanups.push(close);
  return {
    port: (server.address() as { port: number }).port,
    connected,
    release: () => {
      for (const socket of sockets) socket.end('go');
    },
  };
}

/** The most tasks whose [startedAt, endedAt) intervals overlap at one moment. */
function mostAtOnce(outputs: readonly Ran[]): number {
  const edges = outputs.flatMap((output) => [
    [output.startedAt!, 1],
    [output.endedAt!, -1],
  ]);
  // At equal times an end comes before a start: touching intervals do not overlap.
  edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let running = 0;
  let most = 0;
  for (const [, change] of edges) {
    running += change!;
    most = Math.max(most, running);
  }
  return most;
}

for (const isolation of ['thread', 'process'] as const) {
  const workerOf = (output: Ran): number => (isolation === 'thread' ? output.threadId : output.pid);
  const tasksPerWorker = (outputs: readonly Ran[]): number[] => {
    const counts = new Map<number, number>();
    for (const output of outputs) counts.set(workerOf(output), (counts.get(workerOf(output)) ?? 0) + 1);
    return [...counts.values()].sort((a, b) => a - b);
  };

  describe(`local transport (${isolation}): fair to long tasks after tiny ones`, () => {
    it('4 sleeping tasks of 300 ms on 2 workers run two at a time, on a fresh master and after 2,000 tiny tasks; 300/100/200/0 ms use both workers', async () => {
      const master = await start({ workers: 2, isolation });
      const fourLong = async (): Promise<Ran[]> => (await master.map(task('sleepFor'), [300, 300, 300, 300].map((ms) => ({ ms })) as never[])) as Ran[];

      // Both workers take part and two tasks run at once. How the four split is not asserted: on
      // a loaded machine a worker that is not scheduled for a while has its queue taken over
      // (work stealing), so 1 + 3 is as right as 2 + 2.
      const fresh = await fourLong();
      expect(tasksPerWorker(fresh)).toHaveLength(2);
      expect(mostAtOnce(fresh)).toBe(2);

      await tinyBurst(master);
      const afterTiny = await fourLong();
      expect(tasksPerWorker(afterTiny)).toHaveLength(2);
      expect(mostAtOnce(afterTiny)).toBe(2);

      await tinyBurst(master);
      const uneven = (await master.map(task('sleepFor'), [300, 100, 200, 0].map((ms) => ({ ms })) as never[])) as Ran[];
      expect(uneven.map((output) => output.ms)).toEqual([300, 100, 200, 0]);
      expect(tasksPerWorker(uneven)).toHaveLength(2);
      expect(mostAtOnce(uneven)).toBe(2);
    });

    it('a worker left idle takes over the tasks queued behind a long task on the other worker (work stealing)', async () => {
      const master = await start({ workers: 2, isolation });
      await tinyBurst(master); // now each worker is sent many tasks at once
      const gate = await openGate();
      // Submitted in one turn: each worker gets half, so some quick tasks are queued behind the blocked one.
      const [blocked, ...quick] = await Promise.all([
        master.submit(task('waitForSignal'), { port: gate.port } as never),
        ...Array.from({ length: 7 }, () => master.submit(task('sleepFor'), { ms: 0 } as never)),
      ]);
      await gate.connected;
      // Every quick task completes while the blocked one still waits: those queued behind it were taken over.
      const quickOutputs = (await Promise.all(quick.map((handle) => handle!.result))) as Ran[];
      // (Still open: 'running' once the pool's started poll saw it, 'dispatched' until then.)
      expect(['dispatched', 'running']).toContain(blocked!.status);
      gate.release();
      const blockedOutput = (await blocked!.result) as Ran;
      for (const output of quickOutputs) expect(workerOf(output)).not.toBe(workerOf(blockedOutput));
    });

    it('work stealing never runs a task twice (each task creates its own file, exclusively)', async () => {
      const master = await start({ workers: 2, isolation });
      const directory = mkdtempSync(join(tmpdir(), 'tsmw-steal-'));
      cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
      // Rounds of tiny tasks with a few slow ones among them: workers idle and steal often.
      for (let round = 0; round < 4; round += 1) {
        const inputs = Array.from({ length: 600 }, (_, index) => ({ path: join(directory, `${round}-${index}`), ms: index % 97 === 5 ? 20 : 0 }));
        const outputs = await master.map(task('createOnce'), inputs as never[]);
        expect(outputs).toEqual(inputs.map((input) => input.path));
      }
    });
  });
}

describe('local transport (thread): work stealing while a task blocks its thread', () => {
  it('tasks queued behind a synchronous long task are taken over by the idle worker', async () => {
    const master = await start({ workers: 2 });
    await tinyBurst(master);
    const directory = mkdtempSync(join(tmpdir(), 'tsmw-gate-'));
    const gateFile = join(directory, 'open');
    cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
    const [blocked, ...quick] = await Promise.all([
      master.submit(task('spinUntilFileExists'), { path: gateFile } as never),
      ...Array.from({ length: 7 }, () => master.submit(task('sleepFor'), { ms: 0 } as never)),
    ]);
    const quickOutputs = (await Promise.all(quick.map((handle) => handle!.result))) as Ran[];
    expect(existsSync(gateFile)).toBe(false);
    writeFileSync(gateFile, '');
    const blockedOutput = (await blocked!.result) as Ran;
    for (const output of quickOutputs) expect(output.threadId).not.toBe(blockedOutput.threadId);
  });
});
