import { describe, expect, it } from 'vitest';
import { indexTaskModule, runTaskEnvelope, type CheckpointStore, type TaskEnvelope } from '@tsmw/core';
import { runCli, runCliJson } from '../../test/run-cli.js';
import type { CheckpointDemoReport } from './run-checkpoint-demo.js';
import * as taskModule from './tasks.js';
import type { PrimeCountInput, PrimeCountOutput } from './tasks.js';

/** pi(x): how many primes are below x (known values). */
const primesBelow = new Map([
  [10, 4],
  [1_000, 168],
  [1_000_000, 78_498],
  [10_000_000, 664_579],
]);

function envelope(input: PrimeCountInput, attempt = 1): TaskEnvelope {
  return { kind: 'tsmw-task', version: 1, taskId: 'checkpoint-task', taskName: taskModule.countPrimes.name, moduleHash: 'test', attempt, input };
}

describe('checkpoint-demo', () => {
  const registry = indexTaskModule(taskModule);

  it('counts the primes below known limits, whatever the segment size', async () => {
    for (const [limit, count] of primesBelow) {
      for (const segment of [7, 1000, 10_000_000]) {
        if (limit / segment > 20_000) continue;
        const result = await runTaskEnvelope(envelope({ from: 0, to: limit, segment }), registry);
        expect(result.ok, `limit ${limit}, segment ${segment}`).toBe(true);
        expect((result as { output: PrimeCountOutput }).output.count).toBe(count);
      }
    }
  });

  it('a task stopped after a checkpoint resumes from it, and ends with the same count', async () => {
    const saved = new Map<string, Uint8Array>();
    let saves = 0;
    const stop = new AbortController();
    const store: CheckpointStore = {
      async save(taskId, state) {
        saved.set(taskId, state);
        saves += 1;
        // The host goes away right after the third checkpoint is safely written.
        if (saves === 3) stop.abort(new Error('the volunteer quit'));
      },
      async load(taskId) {
        return saved.get(taskId);
      },
    };
    const input: PrimeCountInput = { from: 0, to: 1_000_000, segment: 100_000 };
    const first = await runTaskEnvelope(envelope(input), registry, { checkpoints: store, signal: stop.signal });
    expect(first.ok).toBe(false);
    expect(saves).toBe(3);

    const second = await runTaskEnvelope(envelope(input, 2), registry, { checkpoints: store });
    expect(second.ok).toBe(true);
    const output = (second as { output: PrimeCountOutput }).output;
    expect(output.resumedAt).toBe(300_000);
    expect(output.checkpoints).toBe(7);
    expect(output.count).toBe(78_498);
  });

  it('without a checkpoint store (the local transport) the task runs through from its start', async () => {
    const result = await runTaskEnvelope(envelope({ from: 1000, to: 20_000, segment: 1000 }), registry);
    const output = (result as { output: PrimeCountOutput }).output;
    expect(output).toMatchObject({ from: 1000, to: 20_000, resumedAt: 1000, checkpoints: 19 });
    expect(output.count).toBe(2262 - 168); // pi(20,000) - pi(1,000)
  });

  it('the CLI counts the primes below a limit on the local transport, in tasks that checkpoint', async () => {
    const report = await runCliJson<CheckpointDemoReport>(['checkpoint-demo', '-l', '1e7', '--segment', '1e6', '-t', '3', '-n', '2', '--batch', 'primes-1e7']);
    expect(report).toMatchObject({ limit: 10_000_000, primes: 664_579, tasks: 3, checkpointsKept: false, resumed: 0, transport: 'tsmw.local', workers: 2, batch: 'primes-1e7' });
    // Three tasks of about 3.3 million numbers, a checkpoint every million: 4 each.
    expect(report.checkpoints).toBe(12);
  });

  it('the CLI refuses a bad batch name with exit code 2', async () => {
    const run = await runCli(['checkpoint-demo', '-l', '1000', '--batch', '../escape']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--batch');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});
