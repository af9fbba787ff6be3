import { detachedReport, type DetachedReport } from '../shared/detached-report.js';
import { showProgress } from '../shared/progress-display.js';
import { splitRange } from '../shared/split-range.js';
import { exampleWorkers, mapOrDetach, startExampleMaster, wholeNumber } from '../shared/start-example-master.js';
import type { TransportSettings } from '../shared/transport-options.js';
import { UsageError } from '../shared/usage-error.js';
import { findPrimes, largestI } from './tasks.js';

export interface PrimeFinderOptions extends TransportSettings {
  /** The first i to try. */
  readonly min: number;
  /** The last i to try (inclusive). */
  readonly max: number;
  /** How many tasks the range is split into (default: 3 per worker thread, PyMW's rule; 12 on BOINC). */
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

/** Floating-point operations per i, roughly (a Miller-Rabin test of i*i + 1): BOINC's rsc_fpops_est per task. */
const fpopsPerNumber = 5_000;

/** Finds the primes of the form i*i + 1 for i in a range, split into tasks (PyMW's prime_finder.py). */
export async function runPrimeFinder(options: PrimeFinderOptions): Promise<PrimeFinderReport | DetachedReport> {
  const min = wholeNumber(options.min, '--min', 0, largestI);
  const max = wholeNumber(options.max, '--max', 0, largestI);
  if (max < min) throw new UsageError(`--max (${max}) must not be below --min (${min})`);
  const tasks = options.tasks === undefined ? 3 * (exampleWorkers(options) ?? 4) : wholeNumber(options.tasks, '--tasks', 1);
  const ranges = splitRange(min, max, tasks);
  const started = performance.now();
  const example = await startExampleMaster(options, new URL('./prime-finder/tasks.js', import.meta.url), {
    example: 'prime-finder',
    work: { min, max, tasks },
    fpopsPerTask: Math.ceil((max - min + 1) / ranges.length) * fpopsPerNumber,
  });
  const { master, workers } = example;
  const primes: number[] = [];
  try {
    const stopProgress = showProgress(example, ranges.length, options.progress);
    try {
      // map keeps the input order, so the primes come out sorted.
      const results = await mapOrDetach(example, findPrimes, ranges, 'range-');
      if (results === undefined) return detachedReport(example, ranges.length);
      for (const result of results) primes.push(...result.primes);
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
