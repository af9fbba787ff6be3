import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { TaskCancelledError } from '../errors/task-cancelled-error.js';
import type { TaskDefinition } from '../task/define-task.js';
import type { MapOptions } from './master.js';
import { atAwaitSite, type TaskRecord } from './task-record.js';

/** What `map` needs from its master. */
export interface MapHost {
  assertOpen(): void;
  resolveTask(task: TaskDefinition<never, unknown>): void;
  /** The window when `concurrency` is not given. */
  readonly defaultMapConcurrency: number;
  /** Whether tasks get keys even when the caller gives none (durable transports). */
  readonly keysEveryTask: boolean;
  /** A number per map call of this master (0, 1, 2...), for the keys `map-<n>-<index>`. */
  nextMapOrdinal(): number;
  /** Makes (or, for a known key, attaches to) the record of one input. */
  createMapRecord(taskName: string, input: unknown, options: MapOptions, key: string | undefined): TaskRecord;
  cancelRecord(record: TaskRecord, error: Error): void;
  /** The task's outcome reaches the user: a durable transport may stop keeping it for the next master. */
  handOver(record: TaskRecord): void;
}

/**
 * `mapStream`: at most `concurrency` inputs in flight, outputs yielded in input order as they
 * become available. The first failure ends the stream (thrown where the caller awaits) and
 * cancels what is still open; so does a caller that stops iterating.
 */
export async function* mapStream(
  host: MapHost,
  task: TaskDefinition<never, unknown>,
  inputs: Iterable<unknown> | AsyncIterable<unknown>,
  options: MapOptions,
  keyPrefix?: string,
): AsyncIterableIterator<unknown> {
  host.assertOpen();
  host.resolveTask(task);
  const concurrency = options.concurrency ?? host.defaultMapConcurrency;
  if (typeof concurrency !== 'number' || !(concurrency >= 1)) throw new InvalidArgumentError(`concurrency must be a number >= 1, not ${concurrency}`);
  const keyOf = mapKeys(host, options, keyPrefix);
  const iterator = getIterator(inputs);
  const window = new Map<number, TaskRecord>();
  let submitted = 0;
  let yielded = 0;
  let exhausted = false;
  let wake: (() => void) | undefined;
  const onSettle = (): void => wake?.();
  try {
    for (;;) {
      while (!exhausted && submitted - yielded < concurrency) {
        const step = iterator.async ? await iterator.iterator.next() : iterator.iterator.next();
        if (step.done === true) {
          exhausted = true;
          break;
        }
        host.assertOpen();
        const record = host.createMapRecord(task.name, step.value, options, keyOf?.(step.value, submitted));
        window.set(submitted++, record);
        record.whenSettled(onSettle);
      }
      if (yielded === submitted) return;
      const head = window.get(yielded)!;
      const settlement = head.settlement;
      if (settlement === undefined) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      window.delete(yielded++);
      host.handOver(head);
      if (!settlement.ok) throw atAwaitSite(settlement.error, mapStream);
      yield settlement.output;
    }
  } finally {
    for (const record of window.values()) {
      if (record.settlement === undefined) host.cancelRecord(record, new TaskCancelledError(record.id, 'cancelled because its map ended early'));
    }
    if (!exhausted) await closeIterator(iterator);
  }
}

/** How each input gets its key: the caller's function, a prefix and the position, or none. */
function mapKeys(host: MapHost, options: MapOptions, keyPrefix: string | undefined): ((input: unknown, index: number) => string) | undefined {
  const given = options.key;
  if (given !== undefined) {
    if (typeof given !== 'function') throw new InvalidArgumentError('map option `key` must be a function (input, index) => string');
    return given as (input: unknown, index: number) => string;
  }
  const prefix = options.keyPrefix ?? keyPrefix ?? (host.keysEveryTask ? `map-${host.nextMapOrdinal()}-` : undefined);
  if (prefix === undefined) return undefined;
  if (typeof prefix !== 'string') throw new InvalidArgumentError('map option `keyPrefix` must be a string');
  return (_input, index) => `${prefix}${index}`;
}

type AnyIterator = { async: true; iterator: AsyncIterator<unknown> } | { async: false; iterator: Iterator<unknown> };

function getIterator(inputs: Iterable<unknown> | AsyncIterable<unknown>): AnyIterator {
  if (inputs !== null && typeof inputs === 'object' && Symbol.asyncIterator in inputs) {
    return { async: true, iterator: (inputs as AsyncIterable<unknown>)[Symbol.asyncIterator]() };
  }
  if (inputs !== null && inputs !== undefined && typeof (inputs as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return { async: false, iterator: (inputs as Iterable<unknown>)[Symbol.iterator]() };
  }
  throw new InvalidArgumentError('map needs an iterable or async iterable of inputs');
}

async function closeIterator(iterator: AnyIterator): Promise<void> {
  try {
    await iterator.iterator.return?.();
  } catch {
    // an input source that fails to close does not hide the map's own outcome
  }
}
