import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMaster } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';
import { gate, gated } from '../../test/fixtures/master-tasks.js';

const tasksUrl = new URL('../../test/fixtures/master-tasks.ts', import.meta.url);

describe('console capture beside a master in the same thread', () => {
  it("a task's output is its own: lines the master writes while the task awaits are not taken", async () => {
    gate.reset();
    const master = await createMaster({ transport: createInMemoryTransport(), tasks: tasksUrl });
    try {
      const started = new Promise<void>((resolve) => master.on('task-started', () => resolve()));
      const handle = await master.submit(gated, 'task');
      await started;
      console.log('a line of the master, while the task waits');
      gate.open();
      expect(await handle.result).toBe('task');
      const [settled] = await collect(master.results([handle]));
      expect(settled?.status === 'completed' && settled.console.map((line) => line.text)).toEqual(['task: before', 'task: after']);
    } finally {
      await master.close({ force: true });
    }
  });

  it('after a task timed out and kept running, the master still prints (its output used to disappear)', () => {
    // Inside the package, so that the script resolves @tsmw/core as a user's program would.
    const directory = mkdtempSync(join(fileURLToPath(new URL('../../test/', import.meta.url)), '.tmp-capture-'));
    try {
      const script = join(directory, 'master.mjs');
      writeFileSync(
        script,
        `import { createMaster } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';
const tasks = new URL(${JSON.stringify(new URL('../../test/fixtures/gated-tasks.mjs', import.meta.url).href)});
const { gated } = await import(tasks.href);
const master = await createMaster({ transport: createInMemoryTransport(), tasks });
const handle = await master.submit(gated, 'stuck', { timeoutMs: 50 });
await handle.result.catch((error) => console.log('timed out:', error.name));
console.log('MASTER STILL PRINTS');
process.exit(0);
`,
      );
      const run = spawnSync(process.execPath, [script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', timeout: 60_000 });
      const seen = `exit ${run.status} ${run.signal ?? ''}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
      expect(run.stderr, seen).toBe('');
      expect(run.stdout, seen).toContain('timed out: TaskTimedOutError');
      expect(run.stdout, seen).toContain('MASTER STILL PRINTS');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
