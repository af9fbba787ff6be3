import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { TaskCancelledError } from '../errors/task-cancelled-error.js';
import type { TaskDefinition } from '../task/define-task.js';
import type { MapOptions } from './master.js';
import type { SubmitOptions } from './task-handle.js';
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
  createMapRecord(taskName: string, input: unknown, options: MapOptions, key: string | undefined, files: SubmitOptions['files']): TaskRecord;
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
  const run = new MapRun(host, task, inputs, options, keyPrefix);
  try {
    for (;;) {
      if (run.fillsAsync) await run.fillAsync();
      else run.fill();
      const head = run.head();
      if (head === undefined) return;
      const settlement = head.settlement;
      if (settlement === undefined) {
        await run.headSettled();
        continue;
      }
      run.take(head);
      if (!settlement.ok) throw atAwaitSite(settlement.error, mapStream);
      yield settlement.output;
    }
  } finally {
    await run.end();
  }
}

/**
 * `map`: what `mapStream` yields, collected into an array, without the cost of an async
 * iteration per output (the outputs of a batch of results are taken in one go).
 */
export async function mapAll(
  host: MapHost,
  task: TaskDefinition<never, unknown>,
  inputs: Iterable<unknown> | AsyncIterable<unknown>,
  options: MapOptions,
  keyPrefix?: string,
): Promise<unknown[]> {
  const outputs: unknown[] = [];
  const run = new MapRun(host, task, inputs, options, keyPrefix);
  try {
    for (;;) {
      // Not an await per output: a synchronous source of inputs is read without one.
      if (run.fillsAsync) await run.fillAsync();
      else run.fill();
      const head = run.head();
      if (head === undefined) return outputs;
      const settlement = head.settlement;
      if (settlement === undefined) {
        await run.headSettled();
        continue;
      }
      run.take(head);
      if (!settlement.ok) throw atAwaitSite(settlement.error, mapAll);
      outputs.push(settlement.output);
    }
  } finally {
    await run.end();
  }
}

/** One map call: the window of inputs in flight, oldest first. */
class MapRun {
  private readonly concurrency: number;
  private readonly keyOf: ((input: unknown, index: number) => string) | undefined;
  private readonly filesOf: MapOptions['files'];
  private readonly iterator: AnyIterator;
  /** The records of inputs `yielded` to `submitted - 1`, from `windowHead`. */
  private window: Array<TaskRecord | undefined> = [];
  private windowHead = 0;
  private submitted = 0;
  private yielded = 0;
  private exhausted = false;
  private wake: (() => void) | undefined;
  private readonly onSettle = (): void => this.wake?.();

  constructor(
    private readonly host: MapHost,
    private readonly task: TaskDefinition<never, unknown>,
    inputs: Iterable<unknown> | AsyncIterable<unknown>,
    private readonly options: MapOptions,
    keyPrefix: string | undefined,
  ) {
    host.assertOpen();
    host.resolveTask(task);
    const concurrency = options.concurrency ?? host.defaultMapConcurrency;
    if (typeof concurrency !== 'number' || !(concurrency >= 1)) throw new InvalidArgumentError(`concurrency must be a number >= 1, not ${concurrency}`);
    this.concurrency = concurrency;
    this.keyOf = mapKeys(host, options, keyPrefix);
    this.filesOf = options.files;
    if (this.filesOf !== undefined && typeof this.filesOf !== 'function') throw new InvalidArgumentError('map option `files` must be a function (input, index) => files');
    this.iterator = getIterator(inputs);
  }

  /** Whether the inputs come from an async iterator (`fillAsync`) or a synchronous one (`fill`). */
  get fillsAsync(): boolean {
    return this.iterator.async;
  }

  /** Submits inputs of a synchronous source until the window is full or the inputs end. */
  fill(): void {
    const iterator = this.iterator.iterator as Iterator<unknown>;
    while (!this.exhausted && this.submitted - this.yielded < this.concurrency) this.submitStep(iterator.next());
  }

  /** Submits inputs of an async source until the window is full or the inputs end. */
  async fillAsync(): Promise<void> {
    const iterator = this.iterator.iterator as AsyncIterator<unknown>;
    while (!this.exhausted && this.submitted - this.yielded < this.concurrency) this.submitStep(await iterator.next());
  }

  private submitStep(step: IteratorResult<unknown>): void {
    if (step.done === true) {
      this.exhausted = true;
      return;
    }
    this.host.assertOpen();
    let record: TaskRecord;
    try {
      record = this.host.createMapRecord(this.task.name, step.value, this.options, this.keyOf?.(step.value, this.submitted), this.filesOf?.(step.value, this.submitted));
    } catch (error) {
      if (error instanceof Error) error.message = `${error.message} (input ${this.submitted} of the map)`;
      throw error;
    }
    this.submitted += 1;
    this.window.push(record);
    record.whenSettled(this.onSettle);
  }

  /** The oldest input not yet taken, or undefined when every input was. */
  head(): TaskRecord | undefined {
    return this.yielded === this.submitted ? undefined : this.window[this.windowHead];
  }

  /** Waits until a task of the window settles (the head, or one behind it). */
  async headSettled(): Promise<void> {
    await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
  }

  /** The settled head leaves the window: its outcome is the caller's. */
  take(head: TaskRecord): void {
    this.window[this.windowHead] = undefined;
    this.windowHead += 1;
    this.yielded += 1;
    if (this.windowHead === this.window.length) {
      this.window = [];
      this.windowHead = 0;
    } else if (this.windowHead > 1024 && this.windowHead * 2 > this.window.length) {
      this.window = this.window.slice(this.windowHead);
      this.windowHead = 0;
    }
    this.host.handOver(head);
  }

  /** The map ended (all taken, failed, or left early): what is still open is cancelled. */
  async end(): Promise<void> {
    for (let index = this.windowHead; index < this.window.length; index += 1) {
      const record = this.window[index]!;
      if (record.settlement === undefined) this.host.cancelRecord(record, new TaskCancelledError(record.id, 'cancelled because its map ended early'));
    }
    if (!this.exhausted) await closeIterator(this.iterator);
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
