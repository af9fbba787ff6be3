import { randomInt } from 'node:crypto';
import { detachedReport, type DetachedReport } from '../shared/detached-report.js';
import { showProgress } from '../shared/progress-display.js';
import { exampleBatch, mapOrDetach, seedFromBatch, startExampleMaster, wholeNumber, type ExampleRun } from '../shared/start-example-master.js';
import type { TransportSettings } from '../shared/transport-options.js';
import { UsageError } from '../shared/usage-error.js';
import { throwDarts, type MontePiInput } from './tasks.js';

export interface MontePiOptions extends TransportSettings {
  /** How many tasks the darts are split into. */
  readonly tasks: number;
  /** All darts, split evenly between the tasks. */
  readonly darts: number;
  /** The seed of the random numbers; default random, and on BOINC one that the batch name gives (so a rerun throws the same darts). */
  readonly seed?: number;
  /** Draw a progress bar (or lines) on stderr. */
  readonly progress: boolean;
}

export interface MontePiReport {
  readonly estimate: number;
  readonly error: number;
  readonly tasks: number;
  readonly darts: number;
  readonly hits: number;
  readonly seconds: number;
  readonly dartsPerSecond: number;
  readonly tasksPerSecond: number;
  readonly transport: string;
  readonly workers: number | null;
  readonly batch: string | null;
  readonly seed: number;
}

/** Floating-point operations per dart, roughly (two random numbers, a multiply-add, a compare): BOINC's rsc_fpops_est per task. */
const fpopsPerDart = 50;

/**
 * Estimates pi by throwing darts in tasks (PyMW's monte_pi.py), and reports the estimate, its
 * error and the throughput. On BOINC without `--seed`, the seed comes from the batch name, so the
 * same command run again (after a stop, or after `--detach`) submits the same tasks.
 */
export async function runMontePi(options: MontePiOptions): Promise<MontePiReport | DetachedReport> {
  const tasks = wholeNumber(options.tasks, '--tasks', 1);
  if (!Number.isSafeInteger(options.darts) || options.darts < tasks) throw new UsageError(`--darts must be a whole number >= --tasks (${tasks}), not ${options.darts}`);
  const givenSeed = options.seed === undefined ? undefined : wholeNumber(options.seed, '--seed', 0, 2 ** 31 - 1);
  const run: ExampleRun = { example: 'monte-pi', work: { tasks, darts: options.darts, seed: givenSeed }, fpopsPerTask: Math.ceil(options.darts / tasks) * fpopsPerDart };
  const batch = exampleBatch(options, run);
  const seed = givenSeed ?? (options.transport === 'boinc' && batch !== undefined ? seedFromBatch(batch) : randomInt(2 ** 31));
  const inputs: MontePiInput[] = Array.from({ length: tasks }, (_, index) => ({
    darts: Math.floor(options.darts / tasks) + (index < options.darts % tasks ? 1 : 0),
    seed: (seed + index * 0x9e3779b1) | 0,
  }));
  const started = performance.now();
  const example = await startExampleMaster(options, new URL('./monte-pi/tasks.js', import.meta.url), run);
  const { master, workers } = example;
  let outputs;
  try {
    const stopProgress = showProgress(example, tasks, options.progress);
    try {
      outputs = await mapOrDetach(example, throwDarts, inputs, 'darts-');
    } finally {
      stopProgress();
    }
  } finally {
    await master.close();
  }
  if (outputs === undefined) return detachedReport(example, tasks);
  const seconds = (performance.now() - started) / 1000;
  const hits = outputs.reduce((total, output) => total + output.hits, 0);
  const darts = outputs.reduce((total, output) => total + output.darts, 0);
  const estimate = (4 * hits) / darts;
  return {
    estimate,
    error: Math.abs(estimate - Math.PI),
    tasks,
    darts,
    hits,
    seconds,
    dartsPerSecond: darts / seconds,
    tasksPerSecond: tasks / seconds,
    transport: master.transportId,
    workers: workers ?? null,
    batch: master.batch ?? null,
    seed,
  };
}
