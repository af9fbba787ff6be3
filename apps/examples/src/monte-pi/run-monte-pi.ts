import { randomInt } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { createMaster, type Transport } from '@tsmw/core';
import { createLocalTransport } from '@tsmw/transport-local';
import { createProgressDisplay } from '../progress-display.js';
import { throwDarts, type MontePiInput } from './tasks.js';

export interface MontePiOptions {
  readonly transport: 'local' | 'boinc';
  readonly workers?: number;
  readonly projectHome?: string;
  readonly tasks: number;
  /** All darts, split evenly between the tasks. */
  readonly darts: number;
  readonly seed?: number;
  readonly json: boolean;
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
  readonly workers: number;
  readonly seed: number;
}

/** Thrown for a switch that cannot be honoured; the CLI prints its message and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function createTransport(options: MontePiOptions): { transport: Transport; workers: number } {
  if (options.transport === 'boinc') {
    throw new UsageError('--transport boinc needs @tsmw/transport-boinc, which this release does not include yet; use --transport local');
  }
  const workers = options.workers ?? availableParallelism();
  return { transport: createLocalTransport({ workers }), workers };
}

/** Estimates pi by throwing darts in tasks (PyMW's monte_pi.py), and reports the estimate, its error and the throughput. */
export async function runMontePi(options: MontePiOptions): Promise<MontePiReport> {
  if (!Number.isSafeInteger(options.tasks) || options.tasks < 1) throw new UsageError(`--tasks must be a whole number >= 1, not ${options.tasks}`);
  if (!Number.isSafeInteger(options.darts) || options.darts < options.tasks) throw new UsageError(`--darts must be a whole number >= --tasks, not ${options.darts}`);
  const { transport, workers } = createTransport(options);
  const seed = options.seed ?? randomInt(2 ** 31);
  const inputs: MontePiInput[] = Array.from({ length: options.tasks }, (_, index) => ({
    darts: Math.floor(options.darts / options.tasks) + (index < options.darts % options.tasks ? 1 : 0),
    seed: (seed + index * 0x9e3779b1) | 0,
  }));
  const started = performance.now();
  await using master = await createMaster({ transport, tasks: new URL('./monte-pi/tasks.js', import.meta.url) });
  const display = options.progress ? createProgressDisplay(options.tasks) : undefined;
  let done = 0;
  master.on('task-completed', () => display?.update(++done));
  display?.update(0);
  const outputs = await master.map(throwDarts, inputs);
  display?.finish();
  await master.close();
  const seconds = (performance.now() - started) / 1000;
  const hits = outputs.reduce((total, output) => total + output.hits, 0);
  const darts = outputs.reduce((total, output) => total + output.darts, 0);
  const estimate = (4 * hits) / darts;
  return {
    estimate,
    error: Math.abs(estimate - Math.PI),
    tasks: options.tasks,
    darts,
    hits,
    seconds,
    dartsPerSecond: darts / seconds,
    tasksPerSecond: options.tasks / seconds,
    transport: master.transportId,
    workers,
    seed,
  };
}
