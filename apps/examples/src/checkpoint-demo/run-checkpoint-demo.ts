import { detachedReport, type DetachedReport } from '../shared/detached-report.js';
import { showProgress } from '../shared/progress-display.js';
import { splitRange } from '../shared/split-range.js';
import { exampleWorkers, mapOrDetach, startExampleMaster, wholeNumber } from '../shared/start-example-master.js';
import type { TransportSettings } from '../shared/transport-options.js';
import { countPrimes, largestLimit, type PrimeCountInput } from './tasks.js';

export interface CheckpointDemoOptions extends TransportSettings {
  /** Count the primes below this. */
  readonly limit: number;
  /** Numbers sieved between two checkpoints. */
  readonly segment: number;
  /** How many tasks share the range (default: one per worker thread; 4 on BOINC). */
  readonly tasks?: number;
  readonly progress: boolean;
}

export interface CheckpointDemoReport {
  readonly limit: number;
  /** How many primes are below `limit`. */
  readonly primes: number;
  readonly tasks: number;
  /** Checkpoints the tasks saved in all. */
  readonly checkpoints: number;
  /** Whether the transport keeps checkpoints (BOINC does; the local transport does not need to). */
  readonly checkpointsKept: boolean;
  /** Tasks that went on from a checkpoint of an earlier run instead of from their start. */
  readonly resumed: number;
  readonly seconds: number;
  readonly transport: string;
  readonly workers: number | null;
  readonly batch: string | null;
}

/** Floating-point operations per number sieved, roughly: BOINC's rsc_fpops_est per task. */
const fpopsPerNumber = 20;

/** Counts the primes below a limit in long tasks that checkpoint as they go, and resume from their last checkpoint after a stop. */
export async function runCheckpointDemo(options: CheckpointDemoOptions): Promise<CheckpointDemoReport | DetachedReport> {
  const limit = wholeNumber(options.limit, '--limit', 1, largestLimit);
  const segment = wholeNumber(options.segment, '--segment', 1000, 100_000_000);
  const tasks = options.tasks === undefined ? (exampleWorkers(options) ?? 4) : wholeNumber(options.tasks, '--tasks', 1);
  // Tasks count [from, to): split the numbers 0 .. limit - 1.
  const inputs: PrimeCountInput[] = splitRange(0, limit - 1, tasks).map(({ from, to }) => ({ from, to: to + 1, segment }));
  const started = performance.now();
  const example = await startExampleMaster(options, new URL('./checkpoint-demo/tasks.js', import.meta.url), {
    example: 'checkpoint-demo',
    work: { limit, segment, tasks },
    fpopsPerTask: Math.ceil(limit / inputs.length) * fpopsPerNumber,
  });
  const { master, transport, workers } = example;
  let outputs;
  try {
    const stopProgress = showProgress(example, inputs.length, options.progress);
    try {
      outputs = await mapOrDetach(example, countPrimes, inputs, 'range-');
    } finally {
      stopProgress();
    }
  } finally {
    await master.close();
  }
  if (outputs === undefined) return detachedReport(example, inputs.length);
  return {
    limit,
    primes: outputs.reduce((sum, output) => sum + output.count, 0),
    tasks: inputs.length,
    checkpoints: outputs.reduce((sum, output) => sum + output.checkpoints, 0),
    checkpointsKept: transport.capabilities.checkpoint,
    resumed: outputs.filter((output) => output.resumedAt !== output.from).length,
    seconds: (performance.now() - started) / 1000,
    transport: master.transportId,
    workers: workers ?? null,
    batch: master.batch ?? null,
  };
}
