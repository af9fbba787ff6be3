import { describe, expect, it } from 'vitest';
import { createMaster, type TaskHandle } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';
import { add } from '../../test/fixtures/master-tasks.js';

const tasksUrl = new URL('../../test/fixtures/master-tasks.ts', import.meta.url);

describe('the master with a long queue', () => {
  it('queues 150,000 tasks behind a schedule hook and runs them all (it died with "Maximum call stack size exceeded")', async () => {
    const master = await createMaster({ transport: createInMemoryTransport({ concurrency: 8 }), tasks: tasksUrl, maxQueued: 200_000, maxInFlight: 64, schedule: () => 0 });
    try {
      const handles: Array<TaskHandle<number>> = [];
      for (let index = 0; index < 150_000; index += 1) handles.push(await master.submit(add, { a: index, b: 1 }));
      let completed = 0;
      for await (const settled of master.results()) if (settled.status === 'completed') completed += 1;
      expect(completed).toBe(150_000);
      expect(await handles[149_999]!.result).toBe(150_000);
    } finally {
      await master.close();
    }
  }, 300_000);

  it('a hook that tries to empty the queue it sees loses nothing: map settles with every output', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    const master = await createMaster({
      transport: createInMemoryTransport(),
      tasks: tasksUrl,
      maxInFlight: 2,
      schedule: (queue) => {
        (queue as unknown as unknown[]).length = 0;
        return 0;
      },
    });
    try {
      const inputs = Array.from({ length: 200 }, (_, index) => ({ a: index, b: 0 }));
      expect(await master.map(add, inputs)).toEqual(inputs.map((input) => input.a));
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((message) => message.includes('schedule hook'))).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
      await master.close();
    }
  });
});
