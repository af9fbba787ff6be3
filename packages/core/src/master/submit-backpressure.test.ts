import { describe, expect, it } from 'vitest';
import { createMaster } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';

const tasksUrl = new URL('../../test/fixtures/master-tasks.ts', import.meta.url);
import { add } from '../../test/fixtures/master-tasks.js';

describe('submit backpressure (maxQueued)', () => {
  it('many submits waiting at once are let in oldest first, never over maxQueued, in linear time', async () => {
    const master = await createMaster({ transport: createInMemoryTransport({ concurrency: 4 }), tasks: tasksUrl, maxQueued: 16 });
    const total = 20_000;
    let maxQueued = 0;
    const order: number[] = [];
    const started = performance.now();
    const handles = Array.from({ length: total }, (_, index) =>
      master.submit(add, { a: index, b: 1 }).then((handle) => {
        order.push(index);
        maxQueued = Math.max(maxQueued, master.stats().queued);
        return handle;
      }),
    );
    const outputs = await Promise.all((await Promise.all(handles)).map((handle) => handle.result));
    const seconds = (performance.now() - started) / 1000;
    expect(outputs).toEqual(Array.from({ length: total }, (_, index) => index + 1));
    expect(order).toEqual(Array.from({ length: total }, (_, index) => index));
    expect(maxQueued).toBeLessThanOrEqual(16);
    // Waking every waiter on every free place (and Array#shift on each) made this quadratic.
    expect(seconds).toBeLessThan(30);
    await master.close();
  });

  it('close rejects the submits still waiting for room', async () => {
    const master = await createMaster({ transport: createInMemoryTransport({ concurrency: 1 }), tasks: tasksUrl, maxQueued: 1 });
    const submits = Array.from({ length: 10 }, (_, index) => master.submit(add, { a: index, b: 0 }));
    const closing = master.close({ force: true });
    const outcomes = await Promise.allSettled(submits);
    await closing;
    expect(outcomes.some((outcome) => outcome.status === 'rejected' && (outcome.reason as { code?: string }).code === 'TSMW_MASTER_CLOSED')).toBe(true);
  });
});
