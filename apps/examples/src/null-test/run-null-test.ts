import { detachedReport, type DetachedReport } from '../shared/detached-report.js';
import { showProgress } from '../shared/progress-display.js';
import { startExampleMaster, submitAll, wholeNumber } from '../shared/start-example-master.js';
import { UsageError } from '../shared/usage-error.js';
import type { TransportSettings } from '../shared/transport-options.js';
import { echo } from './tasks.js';

export interface NullTestOptions extends TransportSettings {
  /** Empty tasks run all at once. */
  readonly tasks: number;
  /** Tasks run one after another first, to measure the round trip of one task (default 200; 0 on BOINC). */
  readonly roundTrips?: number;
  /** Kilobytes each task carries there and back (PyMW's task_size). */
  readonly kilobytes: number;
  readonly progress: boolean;
}

export interface NullTestReport {
  readonly tasks: number;
  readonly roundTrips: number;
  readonly kilobytes: number;
  /** From creating the transport until the master is ready. */
  readonly startSeconds: number;
  /** The median time from submit to result of one task with nothing else in flight. */
  readonly roundTripMicroseconds: number | null;
  /** The time of the tasks run all at once. */
  readonly seconds: number;
  /** `seconds` / `tasks`: what one task costs when many are in flight (PyMW's "calculation time per task"). */
  readonly overheadMicroseconds: number;
  readonly tasksPerSecond: number;
  /** Bytes sent and received, per second, in megabytes. */
  readonly megabytesPerSecond: number;
  readonly transport: string;
  readonly workers: number | null;
  readonly batch: string | null;
}

/** Measures the per-task overhead of a transport with tasks that do nothing (PyMW's null_test.py). */
export async function runNullTest(options: NullTestOptions): Promise<NullTestReport | DetachedReport> {
  const tasks = wholeNumber(options.tasks, '--tasks', 1);
  const roundTrips = wholeNumber(options.roundTrips ?? (options.transport === 'boinc' ? 0 : 200), '--round-trips', 0);
  const kilobytes = wholeNumber(options.kilobytes, '--size', 0, 32 * 1024);
  if (options.detach === true && roundTrips > 0) throw new UsageError('--detach submits every task at once, --round-trips runs tasks one after another: give --round-trips 0');
  const payload = new Uint8Array(kilobytes * 1024).map((_, index) => index & 0xff);
  const starting = performance.now();
  const example = await startExampleMaster(options, new URL('./null-test/tasks.js', import.meta.url), {
    example: 'null-test',
    work: { tasks, roundTrips, kilobytes },
    fpopsPerTask: 1e7,
  });
  const { master, workers } = example;
  const startSeconds = (performance.now() - starting) / 1000;
  let seconds: number;
  const durations: number[] = [];
  try {
    if (example.detach) {
      await submitAll(example, echo, Array.from({ length: tasks }, () => payload), 'null-');
      await master.detach();
      return detachedReport(example, tasks);
    }
    for (let index = 0; index < roundTrips; index += 1) {
      const sent = performance.now();
      const handle = await master.submit(echo, payload, { key: `round-trip-${index}` });
      await handle.result;
      durations.push(performance.now() - sent);
    }
    const stopProgress = showProgress(example, tasks, options.progress);
    try {
      const began = performance.now();
      await master.map(echo, repeat(payload, tasks), { keyPrefix: 'null-' });
      seconds = (performance.now() - began) / 1000;
    } finally {
      stopProgress();
    }
  } finally {
    await master.close();
  }
  durations.sort((a, b) => a - b);
  const median = durations.length === 0 ? null : (durations[(durations.length - 1) >> 1]! + durations[durations.length >> 1]!) / 2;
  return {
    tasks,
    roundTrips,
    kilobytes,
    startSeconds,
    roundTripMicroseconds: median === null ? null : median * 1000,
    seconds,
    overheadMicroseconds: (seconds / tasks) * 1e6,
    tasksPerSecond: tasks / seconds,
    megabytesPerSecond: (2 * payload.byteLength * tasks) / 1e6 / seconds,
    transport: master.transportId,
    workers: workers ?? null,
    batch: master.batch ?? null,
  };
}

function* repeat<Value>(value: Value, times: number): Generator<Value> {
  for (let index = 0; index < times; index += 1) yield value;
}
