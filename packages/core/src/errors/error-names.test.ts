import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createMaster, InvalidArgumentError, TaskFailedError } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';
import { wait } from '../../test/fixtures/master-tasks.js';

const tasksUrl = new URL('../../test/fixtures/master-tasks.ts', import.meta.url);

describe('errors as users see them', () => {
  it('keep their names through the bundle (they printed as _TaskFailedError)', () => {
    const error = new TaskFailedError('t1', 'square', { name: 'TypeError', message: 'x is not a function' });
    expect(error.constructor.name).toBe('TaskFailedError');
    expect(new InvalidArgumentError('bad').constructor.name).toBe('InvalidArgumentError');
    const printed = spawnSync(process.execPath, ['--input-type=module', '-e', "import { TaskFailedError } from '@tsmw/core'; console.log(new TaskFailedError('t1', 'square', { name: 'TypeError', message: 'x' }))"], {
      cwd: new URL('../..', import.meta.url),
      encoding: 'utf8',
    });
    expect(printed.stdout).toMatch(/^TaskFailedError: Task square \(t1\) failed/);
    expect(printed.stdout).not.toContain('_TaskFailedError');
  });

  it("show where the user's code awaited the failed task, not only the master's internals", async () => {
    const master = await createMaster({ transport: createInMemoryTransport(), tasks: tasksUrl });
    try {
      const handle = await master.submit(wait, { ms: 60_000 }, { timeoutMs: 30 });
      const error = (await awaitTheResultInUserCode(handle).catch((caught: unknown) => caught)) as Error;
      expect(error.name).toBe('TaskTimedOutError');
      expect(error.stack).toContain('awaitTheResultInUserCode');
    } finally {
      await master.close();
    }
  });
});

async function awaitTheResultInUserCode(handle: { readonly result: Promise<unknown> }): Promise<unknown> {
  return await handle.result;
}
