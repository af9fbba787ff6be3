import { describe, expect, it } from 'vitest';
import { createMaster } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';
import { runCli, runCliJson } from '../../test/run-cli.js';
import type { MontePiReport } from './run-monte-pi.js';
import { throwDarts } from './tasks.js';

describe('monte-pi', () => {
  it('the task is deterministic for a seed and counts hits inside the quarter circle', async () => {
    const master = await createMaster({ transport: createInMemoryTransport(), tasks: new URL('./tasks.ts', import.meta.url) });
    try {
      const [first, again, other] = await master.map(throwDarts, [
        { darts: 200_000, seed: 7 },
        { darts: 200_000, seed: 7 },
        { darts: 200_000, seed: 8 },
      ]);
      expect(first).toEqual(again);
      expect(first!.hits).not.toBe(other!.hits);
      expect((4 * first!.hits) / first!.darts).toBeCloseTo(Math.PI, 1);
    } finally {
      await master.close();
    }
  });

  it('the CLI estimates pi on the local transport and prints JSON', async () => {
    const report = await runCliJson<MontePiReport>(['monte-pi', '-n', '2', '--tasks', '8', '--darts', '4000000', '--seed', '1']);
    expect(report).toMatchObject({ tasks: 8, darts: 4_000_000, workers: 2, transport: 'tsmw.local', seed: 1, batch: null });
    expect(Math.abs(report.estimate - Math.PI)).toBeLessThan(0.01);
    expect(report.error).toBeCloseTo(Math.abs(report.estimate - Math.PI), 12);
    expect(report.seconds).toBeGreaterThan(0);
    // The same seed throws the same darts, however many workers share them.
    const again = await runCliJson<MontePiReport>(['monte-pi', '-n', '1', '--tasks', '8', '--darts', '4000000', '--seed', '1', '--batch', 'pi-again']);
    expect(again.hits).toBe(report.hits);
    expect(again.batch).toBe('pi-again');
  });

  it('the CLI refuses bad switches with exit code 2 and a one-line reason', async () => {
    const failure = await runCli(['monte-pi', '--tasks', '0']);
    expect(failure.code).toBe(2);
    expect(failure.stderr.trim().split('\n')).toHaveLength(1);
    expect(failure.stderr).toContain('--tasks');
  });
});
