import { showProgress } from '../shared/progress-display.js';
import { splitRange } from '../shared/split-range.js';
import { startExampleMaster, wholeNumber } from '../shared/start-example-master.js';
import type { TransportSettings } from '../shared/transport-options.js';
import { UsageError } from '../shared/usage-error.js';
import { findPrimes, largestI } from './tasks.js';

export interface PrimeFinderOptions extends TransportSettings {
  /** The first i to try. */
  readonly min: number;
  /** The last i to try (inclusive). */
  readonly max: number;
  /** How many tasks the range is split into (default: 3 per worker thread, PyMW's rule). */
  readonly tasks?: number;
  readonly progress: boolean;
}

export interface PrimeFinderReport {
  readonly min: number;
  readonly max: number;
  /** How many of i*i + 1, min <= i <= max, are prime. */
  readonly count: number;
  /** Those primes, in increasing order. */
  readonly primes: number[];
  readonly tasks: number;
  readonly seconds: number;
  readonly transport: string;
  readonly workers: number | null;
  readonly batch: string | null;
}

/** Finds the primes of the form i*i + 1 for i in a range, split into tasks (PyMW's prime_finder.py). */
export async function runPrimeFinder(options: PrimeFinderOptions): Promise<PrimeFinderReport> {
  const min = wholeNumber(options.min, '--min', 0, largestI);
  const max = wholeNumber(options.max, '--max', 0, largestI);
  if (max < min) throw new UsageError(`--max (${max}) must not be below --min (${min})`);
  const started = performance.now();
  const { master, workers } = await startExampleMaster(options, new URL('./prime-finder/tasks.js', import.meta.url));
  let ranges;
  const primes: number[] = [];
  try {
    const tasks = options.tasks === undefined ? 3 * (workers ?? 4) : wholeNumber(options.tasks, '--tasks', 1);
    ranges = splitRange(min, max, tasks);
    const stopProgress = showProgress(master, ranges.length, options.progress);
    try {
      // map keeps the input order, so the primes come out sorted.
      for (const result of await master.map(findPrimes, ranges)) primes.push(...result.primes);
    } finally {
      stopProgress();
    }
  } finally {
    await master.close();
  }
  return {
    min,
    max,
    count: primes.length,
    primes,
    tasks: ranges.length,
    seconds: (performance.now() - started) / 1000,
    transport: master.transportId,
    workers: workers ?? null,
    batch: master.batch ?? null,
  };
}
