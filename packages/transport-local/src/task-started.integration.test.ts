import { createMaster, type Master, type TaskDefinition } from '@tsmw/core';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalTransport } from './create-local-transport.js';

const poolTasks = new URL('../test/fixtures/pool-tasks.mjs', import.meta.url);
const tasks = (await import(poolTasks.href)) as Record<string, TaskDefinition<never, unknown>>;
const task = (name: string): TaskDefinition<never, unknown> => tasks[name]!;

const open: Master[] = [];
const directories: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((master) => master.close({ force: true }).catch(() => {})));
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

for (const isolation of ['thread', 'process'] as const) {
  describe(`local transport (${isolation}): task-started`, () => {
    it('fires once for every task, before its task-completed (2,035 tiny tasks)', async () => {
      const master = await createMaster({ transport: createLocalTransport({ workers: 2, isolation }), tasks: poolTasks });
      open.push(master);
      const order: string[] = [];
      master.on('task-started', (event) => order.push(`started ${event.taskId}`));
      master.on('task-completed', (event) => order.push(`completed ${event.taskId}`));
      const outputs = await master.map(task('add'), Array.from({ length: 2035 }, (_, index) => ({ a: index, b: 1 })) as never[]);
      expect(outputs).toHaveLength(2035);
      const started = order.filter((line) => line.startsWith('started '));
      const completed = order.filter((line) => line.startsWith('completed '));
      expect(completed).toHaveLength(2035);
      expect(started).toHaveLength(2035);
      expect(new Set(started).size).toBe(2035);
      for (const line of completed) {
        const taskId = line.slice('completed '.length);
        expect(order.indexOf(`started ${taskId}`)).toBeGreaterThanOrEqual(0);
        expect(order.indexOf(`started ${taskId}`)).toBeLessThan(order.indexOf(line));
      }
    });

    it('fires while a long task still runs, even one that blocks its thread, after tiny tasks', async () => {
      const master = await createMaster({ transport: createLocalTransport({ workers: 2, isolation }), tasks: poolTasks });
      open.push(master);
      // Tiny tasks first: workers then answer in batches, and started events come with results.
      await master.map(task('add'), Array.from({ length: 500 }, (_, index) => ({ a: index, b: 1 })) as never[]);
      const directory = mkdtempSync(join(tmpdir(), 'tsmw-started-'));
      directories.push(directory);
      const gateFile = join(directory, 'open');
      const startedIds: string[] = [];
      let waiting: { readonly taskId: string; readonly resolve: () => void } | undefined;
      master.on('task-started', (event) => {
        startedIds.push(event.taskId);
        if (event.taskId === waiting?.taskId) waiting.resolve();
      });
      const handle = await master.submit(task('spinUntilFileExists'), { path: gateFile } as never);
      const blockedStarted = new Promise<void>((resolve) => {
        if (startedIds.includes(handle.id)) resolve();
        else waiting = { taskId: handle.id, resolve };
      });
      await blockedStarted;
      // The task cannot have finished: it waits for the file, created only now.
      expect(existsSync(gateFile)).toBe(false);
      writeFileSync(gateFile, '');
      await handle.result;
      expect(startedIds.filter((id) => id === handle.id)).toHaveLength(1);
    });
  });
}
