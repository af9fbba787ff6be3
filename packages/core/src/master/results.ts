import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { SettledTask, TaskHandle } from './task-handle.js';
import { TaskRecord } from './task-record.js';
import type { TaskTable } from './task-table.js';

/**
 * `results()`: every task submitted with `submit` (or recovered) whose result nobody took, in
 * the order they settle; it ends when none is open. O(1) per task however many have settled.
 */
export async function* allResults(table: TaskTable, handOver: (record: TaskRecord) => void): AsyncIterableIterator<SettledTask<unknown>> {
  for (;;) {
    const { record, done } = table.takeCollectable();
    if (record !== undefined) {
      handOver(record);
      yield record.toSettledTask();
      continue;
    }
    if (done) return;
    await table.waitForCollectable();
  }
}

/** `results(handles)`: just these tasks, in the order they settle. */
export async function* handleResults(
  handles: readonly TaskHandle<unknown>[],
  handOver: (record: TaskRecord) => void,
): AsyncIterableIterator<SettledTask<unknown>> {
  if (!Array.isArray(handles)) throw new InvalidArgumentError('results() takes an array of handles returned by this master');
  const records = handles.map((handle) => {
    if (!(handle instanceof TaskRecord)) throw new InvalidArgumentError('results() takes handles returned by this master');
    return handle;
  });
  const settled: TaskRecord[] = [];
  let wake: (() => void) | undefined;
  for (const record of records) {
    record.whenSettled((done) => {
      settled.push(done);
      wake?.();
    });
  }
  let taken = 0;
  while (taken < records.length) {
    if (taken === settled.length) {
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      continue;
    }
    const record = settled[taken++]!;
    handOver(record);
    yield record.toSettledTask();
  }
}
