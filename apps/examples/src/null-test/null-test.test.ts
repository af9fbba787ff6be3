import { describe, expect, it } from 'vitest';
import { createMaster } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';
import { runCliJson } from '../../test/run-cli.js';
import type { NullTestReport } from './run-null-test.js';
import { echo } from './tasks.js';

describe('null-test', () => {
  it('the task hands its bytes back unchanged', async () => {
    const master = await createMaster({ transport: createInMemoryTransport(), tasks: new URL('./tasks.ts', import.meta.url) });
    try {
      const payload = Uint8Array.from({ length: 4096 }, (_, index) => (index * 7) & 0xff);
      const [back, empty] = await master.map(echo, [payload, new Uint8Array(0)]);
      expect(back).toEqual(payload);
      expect(empty).toHaveLength(0);
    } finally {
      await master.close();
    }
  });

  it('the CLI measures the per-task overhead of the local transport', async () => {
    const report = await runCliJson<NullTestReport>(['null-test', '-t', '2000', '--round-trips', '20', '-s', '4', '-n', '2']);
    expect(report).toMatchObject({ tasks: 2000, roundTrips: 20, kilobytes: 4, transport: 'tsmw.local', workers: 2 });
    expect(report.seconds).toBeGreaterThan(0);
    expect(report.startSeconds).toBeGreaterThan(0);
    expect(report.roundTripMicroseconds).toBeGreaterThan(0);
    expect(report.overheadMicroseconds).toBeCloseTo((report.seconds / 2000) * 1e6, 6);
    expect(report.tasksPerSecond).toBeCloseTo(2000 / report.seconds, 6);
    expect(report.megabytesPerSecond).toBeCloseTo((2 * 4096 * 2000) / 1e6 / report.seconds, 6);
  });

  it('--round-trips 0 skips the one-at-a-time phase', async () => {
    const report = await runCliJson<NullTestReport>(['null-test', '-t', '100', '--round-trips', '0', '-n', '1']);
    expect(report.roundTripMicroseconds).toBeNull();
    expect(report.tasks).toBe(100);
  });
});
