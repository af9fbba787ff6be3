import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createMaster } from '@tsmw/core';
import { createInMemoryTransport } from '@tsmw/core/testing';
import { throwDarts } from './tasks.js';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const run = promisify(execFile);

describe('monte-pi', () => {
  it('the task is deterministic for a seed and counts hits inside the quarter circle', async () => {
    await using master = await createMaster({ transport: createInMemoryTransport(), tasks: new URL('./tasks.ts', import.meta.url) });
    const [first, again, other] = await master.map(throwDarts, [
      { darts: 200_000, seed: 7 },
      { darts: 200_000, seed: 7 },
      { darts: 200_000, seed: 8 },
    ]);
    expect(first).toEqual(again);
    expect(first!.hits).not.toBe(other!.hits);
    expect((4 * first!.hits) / first!.darts).toBeCloseTo(Math.PI, 1);
  });

  it('the CLI estimates pi on the local transport and prints JSON', async () => {
    const { stdout } = await run(process.execPath, [cli, 'monte-pi', '-n', '2', '--tasks', '8', '--darts', '4000000', '--seed', '1', '--json']);
    const report = JSON.parse(stdout) as Record<string, number | string>;
    expect(report).toMatchObject({ tasks: 8, darts: 4_000_000, workers: 2, transport: 'tsmw.local', seed: 1 });
    expect(Math.abs((report['estimate'] as number) - Math.PI)).toBeLessThan(0.01);
    expect(report['error']).toBeCloseTo(Math.abs((report['estimate'] as number) - Math.PI), 12);
    expect(report['seconds']).toBeGreaterThan(0);
  }, 60_000);

  it('the CLI refuses bad switches with exit code 2 and a one-line reason', async () => {
    const failure = await run(process.execPath, [cli, 'monte-pi', '--tasks', '0']).then(() => undefined, (error: { code: number; stderr: string }) => error);
    expect(failure?.code).toBe(2);
    expect(failure?.stderr.trim().split('\n')).toHaveLength(1);
    expect(failure?.stderr).toContain('--tasks');
    const boinc = await run(process.execPath, [cli, 'monte-pi', '-i', 'boinc']).then(() => undefined, (error: { code: number; stderr: string }) => error);
    expect(boinc?.code).toBe(2);
    expect(boinc?.stderr).toContain('boinc');
  }, 60_000);
});
