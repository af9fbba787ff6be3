import { randomInt } from 'node:crypto';
import { showProgress } from '../shared/progress-display.js';
import { startExampleMaster, wholeNumber } from '../shared/start-example-master.js';
import type { TransportSettings } from '../shared/transport-options.js';
import { UsageError } from '../shared/usage-error.js';
import { throwDarts, type MontePiInput } from './tasks.js';

export interface MontePiOptions extends TransportSettings {
  /** How many tasks the darts are split into. */
  readonly tasks: number;
  /** All darts, split evenly between the tasks. */
  readonly darts: number;
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

/** Estimates pi by throwing darts in tasks (PyMW's monte_pi.py), and reports the estimate, its error and the throughput. */
export async function runMontePi(options: MontePiOptions): Promise<MontePiReport> {
  const tasks = wholeNumber(options.tasks, '--tasks', 1);
  if (!Number.isSafeInteger(options.darts) || options.darts < tasks) throw new UsageError(`--darts must be a whole number >= --tasks (${tasks}), not ${options.darts}`);
  const seed = options.seed === undefined ? randomInt(2 ** 31) : wholeNumber(options.seed, '--seed', 0, 2 ** 31 - 1);
  const inputs: MontePiInput[] = Array.from({ length: tasks }, (_, index) => ({
    darts: Math.floor(options.darts / tasks) + (index < options.darts % tasks ? 1 : 0),
    seed: (seed + index * 0x9e3779b1) | 0,
  }));
  const started = performance.now();
  const { master, workers } = await startExampleMaster(options, new URL('./monte-pi/tasks.js', import.meta.url));
  let outputs;
  try {
    const stopProgress = showProgress(master, tasks, options.progress);
    try {
      outputs = await master.map(throwDarts, inputs);
    } finally {
      stopProgress();
    }
  } finally {
    await master.close();
  }
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
