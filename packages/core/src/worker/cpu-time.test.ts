import { describe, expect, it } from 'vitest';
import { createMaster } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';
import { idle, spin } from '../../test/fixtures/master-tasks.js';
import { CpuMeter } from './cpu-clock.js';

const tasksUrl = new URL('../../test/fixtures/master-tasks.ts', import.meta.url);

describe('CPU time', () => {
  it('a synchronous task that waits reports the CPU it used, not its wall time (both were the same)', async () => {
    const master = await createMaster({ transport: createInMemoryTransport(), tasks: tasksUrl });
    try {
      await (await master.submit(idle, 300)).result;
      await (await master.submit(spin, 100)).result;
      const stats = master.stats().byTask;
      expect(stats['idle']!.wall.totalMs).toBeGreaterThanOrEqual(290);
      expect(stats['idle']!.cpu.totalMs).toBeLessThan(stats['idle']!.wall.totalMs / 2);
      // spin burns 100 ms of the process's CPU; the task's thread gets most of it (the rest goes to
      // the process's other threads: GC helpers, the runner), more on a loaded machine.
      expect(stats['spin']!.cpu.totalMs).toBeGreaterThanOrEqual(50);
    } finally {
      await master.close();
    }
  });

  it('reads the clock about once a millisecond for tiny tasks, and at both ends of long ones', () => {
    let reads = 0;
    let cpu = 0;
    const meter = new CpuMeter(() => {
      reads += 1;
      return cpu;
    });
    // 1,000 tasks of 0.01 ms each, back to back (10 ms in all): one reading per millisecond.
    let wall = 1000;
    for (let index = 0; index < 1000; index += 1) {
      const start = meter.start(wall);
      wall += 0.01;
      cpu += 0.01;
      expect(meter.end(start, 0.01, wall)).toBeCloseTo(0.01);
    }
    expect(reads).toBeLessThanOrEqual(11);
    const before = reads;
    // A task of 50 ms wall time that used 5 ms of CPU (it waited): measured, not its wall time.
    wall += 5;
    const start = meter.start(wall);
    wall += 50;
    cpu += 5;
    expect(meter.end(start, 50, wall)).toBeCloseTo(5);
    expect(reads - before).toBe(2);
  });
});
