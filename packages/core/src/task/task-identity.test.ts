import { describe, expect, it } from 'vitest';
import { createMaster, InvalidArgumentError, TaskModuleMismatchError } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';
import { add } from '../../test/fixtures/master-tasks.js';
import { add as otherAdd } from '../../test/fixtures/other-tasks.js';

const tasksUrl = new URL('../../test/fixtures/master-tasks.ts', import.meta.url);

describe('the task module is the code that runs', () => {
  it('submit refuses a definition from another module, naming both (it used to run the other code silently)', async () => {
    const master = await createMaster({ transport: createInMemoryTransport(), tasks: tasksUrl });
    try {
      const error = await master.submit(otherAdd, { a: 5, b: 3 }).catch((caught: unknown) => caught);
      expect(TaskModuleMismatchError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain('other-tasks.ts');
      expect((error as Error).message).toContain('master-tasks.ts');
      expect(await (await master.submit(add, { a: 5, b: 3 })).result).toBe(8);
    } finally {
      await master.close();
    }
  });

  it('accepts a definition the module provably exports: the same file loaded under another URL', async () => {
    const master = await createMaster({ transport: createInMemoryTransport(), tasks: tasksUrl });
    try {
      const copy = (await import(`${tasksUrl.href}?another-instance`)) as typeof import('../../test/fixtures/master-tasks.js');
      expect(copy.add).not.toBe(add);
      expect(await (await master.submit(copy.add, { a: 1, b: 2 })).result).toBe(3);
    } finally {
      await master.close();
    }
  });

  it('a master given its own file as the task module is refused with a clear error (it used to exit 13 silently)', async () => {
    const error = await import('../../test/fixtures/self-master.js').catch((caught: unknown) => caught);
    expect(InvalidArgumentError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/is the master's own file/);
  });
});
