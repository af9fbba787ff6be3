import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EnvelopeTooLargeError } from '../errors/envelope-too-large-error.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { MasterClosedError } from '../errors/master-closed-error.js';
import { TaskCancelledError } from '../errors/task-cancelled-error.js';
import { TaskFailedError } from '../errors/task-failed-error.js';
import { TaskTimedOutError } from '../errors/task-timed-out-error.js';
import { TransportError } from '../errors/transport-error.js';
import { TsmwError } from '../errors/tsmw-error.js';
import { isTaskDefinition, type TaskDefinition } from '../task/define-task.js';
import { hashTaskModule, isTaskModuleHash } from '../task/hash-task-module.js';
import { indexTaskModule, type TaskRegistry } from '../task/task-module.js';
import { assertBatchName } from './batch-name.js';
import { assertTransport } from '../transport/is-transport.js';
import type { SubmittedTaskV1, TaskFileV1, Transport, TransportEventV1 } from '../transport/transport-v1.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, WIRE_FORMAT_VERSION } from '../wire/limits.js';
import { decodeResultEnvelope } from '../wire/result-envelope.js';
import type { TaskEnvelope } from '../wire/envelope.js';
import { encodeTaskEnvelope } from '../wire/task-envelope.js';
import { EventHub, type MasterEventListener, type MasterEventName } from './events.js';
import type { CloseOptions, MapOptions, MapReduceOptions, Master, MasterOptions } from './master.js';
import { StatsRecorder, type MasterStats } from './stats.js';
import { TaskRecord, type QueuedTask, type SettledTask, type SubmitOptions, type TaskHandle } from './task-handle.js';

const DEFAULT_MAX_QUEUED = 100_000;
const DEFAULT_RETRIES = 2;
const MAX_MAP_CONCURRENCY = 65_536;
const fileNamePattern = /^(?!\.\.?$)[\w.-]{1,255}$/;
const noFiles: readonly TaskFileV1[] = Object.freeze([]);
const noConsole: readonly never[] = Object.freeze([]);

/**
 * Creates a master for a task module on a transport: loads the module (to know its tasks and
 * hash it), starts the transport, and begins collecting results.
 *
 * ```ts
 * await using master = await createMaster({ transport: createLocalTransport(), tasks: new URL('./tasks.js', import.meta.url) });
 * const outputs = await master.map(pi, inputs);
 * ```
 */
export async function createMaster(options: MasterOptions): Promise<Master> {
  assertTransport(options.transport);
  const moduleUrl = toModuleUrl(options.tasks);
  let source: Uint8Array;
  try {
    source = await readFile(fileURLToPath(moduleUrl));
  } catch (error) {
    throw new InvalidArgumentError(`Cannot read the task module ${moduleUrl.href}: ${(error as Error).message}`, { cause: error });
  }
  if (options.batch !== undefined) assertBatchName(options.batch);
  if (options.batch === undefined && options.transport.capabilities.durable) {
    throw new InvalidArgumentError(
      `The transport ${options.transport.transportId} is durable: give createMaster a batch name (for example batch: 'pi-2026-11'), so that a master started again finds its tasks`,
    );
  }
  const fileHash = hashTaskModule(source);
  const registry = indexTaskModule(await import(moduleUrl.href));
  if (registry.size === 0) {
    throw new InvalidArgumentError(`The task module ${moduleUrl.href} exports no task (define them with defineTask and export them)`);
  }
  const transport = options.transport;
  const maxEnvelopeBytes = Math.min(options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, transport.capabilities.maxEnvelopeBytes);
  let started;
  try {
    started = await transport.doStart({
      taskModule: { url: moduleUrl.href, hash: fileHash, taskNames: [...registry.keys()] },
      maxEnvelopeBytes,
      ...(options.batch === undefined ? {} : { batch: options.batch }),
    });
  } catch (error) {
    if (TsmwError.isInstance(error)) throw error;
    throw new TransportError(`The transport ${transport.transportId} did not start: ${(error as Error).message}`, { cause: error });
  }
  const moduleHash = started.taskModuleHash ?? fileHash;
  if (!isTaskModuleHash(moduleHash)) {
    throw new TransportError(`The transport ${transport.transportId} named a task module hash that is not a sha256: ${JSON.stringify(moduleHash)}`);
  }
  const master = new MasterImplementation(transport, registry, moduleHash, maxEnvelopeBytes, options);
  master.recover(started.recovered ?? []);
  return master;
}

function toModuleUrl(tasks: string | URL): URL {
  if (tasks instanceof URL) return tasks;
  if (typeof tasks !== 'string' || tasks === '') throw new InvalidArgumentError('createMaster needs `tasks`: the path or URL of the task module');
  return /^file:/i.test(tasks) ? new URL(tasks) : pathToFileURL(resolvePath(tasks));
}

class MasterImplementation implements Master {
  readonly transportId: string;
  readonly batch: string | undefined;
  recovered: readonly TaskHandle<unknown>[] = [];

  private readonly records = new Map<string, TaskRecord>();
  private readonly queue: TaskRecord[] = [];
  private queueHead = 0;
  private readonly retryQueue: TaskRecord[] = [];
  private queued = 0;
  private inFlight = 0;
  /** Cancelled at a transport that cannot cancel: they hold their in-flight place until they end. */
  private readonly abandoned = new Set<string>();
  private readonly unclaimed = new Set<TaskRecord>();
  private publicOpen = 0;
  private resultWaiters: Array<() => void> = [];
  /** Submits waiting for room in the queue, oldest first from `spaceWaitersHead` (no `shift()`: it is O(n)). */
  private spaceWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private spaceWaitersHead = 0;
  /** Places in the queue promised to woken submits that have not run yet. */
  private spaceGranted = 0;
  private idleWaiters: Array<() => void> = [];
  private dispatching = false;
  private dispatchScheduled = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private forceClosing = false;
  private pendingCancels: string[] = [];
  private pendingAcknowledgements: string[] = [];
  private counter = 0;
  private readonly idPrefix = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}-`;
  private readonly statsRecorder = new StatsRecorder();
  private readonly events = new EventHub();
  private readonly maxInFlight: number;
  private readonly maxBatchSize: number;
  private readonly maxQueued: number;
  private readonly retries: number;
  private readonly receiving: Promise<void>;

  constructor(
    private readonly transport: Transport,
    private readonly registry: TaskRegistry,
    readonly moduleHash: string,
    private readonly maxEnvelopeBytes: number,
    private readonly options: MasterOptions,
  ) {
    this.transportId = transport.transportId;
    this.batch = options.batch;
    this.maxInFlight = positive(options.maxInFlight ?? transport.capabilities.maxInFlight, 'maxInFlight');
    this.maxBatchSize = Math.max(1, Math.floor(positive(transport.capabilities.maxBatchSize, 'maxBatchSize')));
    this.maxQueued = positive(options.maxQueued ?? DEFAULT_MAX_QUEUED, 'maxQueued');
    this.retries = options.retries ?? DEFAULT_RETRIES;
    this.receiving = this.receive();
  }

  // ---- submission -------------------------------------------------------------------------

  async submit(task: TaskDefinition<never, unknown>, input: unknown, options: SubmitOptions = {}): Promise<TaskHandle<never>> {
    this.assertOpen();
    this.resolveTask(task);
    while (this.queued + this.spaceGranted >= this.maxQueued) {
      await new Promise<void>((resolve, reject) => this.spaceWaiters.push({ resolve, reject }));
      this.spaceGranted -= 1;
      this.assertOpen();
    }
    return this.createRecord(task.name, input, options, true) as unknown as TaskHandle<never>;
  }

  private createRecord(taskName: string, input: unknown, options: SubmitOptions, isPublic: boolean): TaskRecord {
    const files = normalizeFiles(options.files);
    if (files.length > 0 && !this.transport.capabilities.files) {
      throw new InvalidArgumentError(`The transport ${this.transportId} cannot deliver data files`);
    }
    if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
      throw new InvalidArgumentError(`timeoutMs must be a positive number of milliseconds, not ${options.timeoutMs}`);
    }
    const retries = options.retries ?? this.retries;
    if (!Number.isInteger(retries) || retries < 0) throw new InvalidArgumentError(`retries must be a whole number >= 0, not ${retries}`);
    const id = this.idPrefix + (this.counter++).toString(36);
    const record = new TaskRecord(id, taskName, input, Date.now(), options, files, retries, this.cancelRecord, this.claimRecord);
    record.isPublic = isPublic;
    record.envelope = this.encode(record); // throws EnvelopeTooLargeError / InvalidArgumentError to the caller
    this.records.set(id, record);
    this.queue.push(record);
    this.queued += 1;
    if (isPublic) this.publicOpen += 1;
    this.statsRecorder.recordSubmitted();
    if (this.events.has('task-submitted')) this.events.emit('task-submitted', { taskId: id, taskName });
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.cancelRecord(record);
      else {
        const onAbort = (): void => this.cancelRecord(record);
        signal.addEventListener('abort', onAbort, { once: true });
        record.whenSettled(() => signal.removeEventListener('abort', onAbort));
      }
    }
    this.scheduleDispatch();
    return record;
  }

  private encode(record: TaskRecord): Uint8Array {
    const task: { -readonly [Key in keyof TaskEnvelope]: TaskEnvelope[Key] } = {
      kind: 'tsmw-task',
      version: WIRE_FORMAT_VERSION,
      taskId: record.id,
      taskName: record.taskName,
      moduleHash: this.moduleHash,
      attempt: record.attempt,
      input: record.input,
    };
    if (record.files.length > 0) task.fileNames = record.files.map((file) => file.name);
    const envelope = encodeTaskEnvelope(task, { maxBytes: this.maxEnvelopeBytes });
    if (record.files.length === 0) return envelope;
    let total = envelope.byteLength;
    for (const file of record.files) if ('data' in file) total += file.data.byteLength;
    if (total > this.maxEnvelopeBytes) throw new EnvelopeTooLargeError(total, this.maxEnvelopeBytes, 'task envelope with its data files');
    return envelope;
  }

  private resolveTask(task: TaskDefinition<never, unknown>): void {
    if (!isTaskDefinition(task)) throw new InvalidArgumentError('submit needs a task made by defineTask');
    if (!this.registry.has(task.name)) {
      throw new InvalidArgumentError(`Task "${task.name}" is not exported by the master's task module (it has: ${[...this.registry.keys()].join(', ')})`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new MasterClosedError('The master is closed: no more tasks can be submitted');
  }

  // ---- dispatch to the transport ----------------------------------------------------------

  private scheduleDispatch(): void {
    if (this.dispatchScheduled || this.dispatching) return;
    this.dispatchScheduled = true;
    queueMicrotask(() => {
      this.dispatchScheduled = false;
      void this.dispatch();
    });
  }

  private async dispatch(): Promise<void> {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      while (this.queued > 0 && this.inFlight < this.maxInFlight && !this.forceClosing) {
        const room = Math.min(this.maxInFlight - this.inFlight, this.maxBatchSize);
        const batch: SubmittedTaskV1[] = [];
        const records: TaskRecord[] = [];
        while (batch.length < room) {
          const record = this.takeNext();
          if (record === undefined) break;
          record.status = 'running';
          this.queued -= 1;
          this.inFlight += 1;
          records.push(record);
          const submitted: { -readonly [Key in keyof SubmittedTaskV1]: SubmittedTaskV1[Key] } = {
            taskId: record.id,
            taskName: record.taskName,
            attempt: record.attempt,
            envelope: record.envelope!,
            files: record.files,
          };
          if (record.options.key !== undefined) submitted.key = record.options.key;
          if (record.options.hints !== undefined) submitted.hints = record.options.hints;
          batch.push(submitted);
          if (record.options.timeoutMs !== undefined) {
            record.timer = setTimeout(() => this.timeOut(record), record.options.timeoutMs);
          }
        }
        if (batch.length === 0) break;
        this.releaseSpace();
        try {
          await this.transport.doSubmit(batch);
        } catch (error) {
          const failure = TsmwError.isInstance(error)
            ? error
            : new TransportError(`The transport ${this.transportId} refused a batch: ${(error as Error)?.message}`, { cause: error, retryable: true });
          for (const record of records) if (record.status === 'running' && !record.settled) this.failAttempt(record, failure);
        }
      }
    } finally {
      this.dispatching = false;
    }
  }

  private takeNext(): TaskRecord | undefined {
    while (this.retryQueue.length > 0) {
      const record = this.retryQueue.shift()!;
      if (record.status === 'queued') return record;
    }
    const schedule = this.options.schedule;
    if (schedule !== undefined) return this.takeScheduled(schedule);
    while (this.queueHead < this.queue.length) {
      const record = this.queue[this.queueHead]!;
      this.queue[this.queueHead] = undefined as unknown as TaskRecord;
      this.queueHead += 1;
      if (record.status === 'queued') {
        this.compactQueue();
        return record;
      }
    }
    this.compactQueue();
    return undefined;
  }

  private takeScheduled(schedule: (queue: readonly QueuedTask[]) => number): TaskRecord | undefined {
    this.compactQueue(true);
    if (this.queue.length === 0) return undefined;
    let index = 0;
    try {
      index = schedule(this.queue);
    } catch (error) {
      process.emitWarning(`The schedule hook threw; taking the oldest task: ${(error as Error)?.message}`, 'TsmwScheduleWarning');
    }
    if (!Number.isInteger(index) || index < 0 || index >= this.queue.length) index = 0;
    return this.queue.splice(index, 1)[0];
  }

  private compactQueue(dropSettled = false): void {
    if (dropSettled || (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length)) {
      const live = this.queue.slice(this.queueHead).filter((record) => record.status === 'queued');
      this.queue.length = 0;
      this.queue.push(...live);
      this.queueHead = 0;
    }
  }

  /** Wakes as many waiting submits as there is room for, oldest first. */
  private releaseSpace(): void {
    const waiters = this.spaceWaiters;
    while (this.spaceWaitersHead < waiters.length && this.queued + this.spaceGranted < this.maxQueued) {
      const waiter = waiters[this.spaceWaitersHead]!;
      waiters[this.spaceWaitersHead] = undefined as never;
      this.spaceWaitersHead += 1;
      this.spaceGranted += 1;
      waiter.resolve();
    }
    if (this.spaceWaitersHead === waiters.length) {
      waiters.length = 0;
      this.spaceWaitersHead = 0;
    } else if (this.spaceWaitersHead > 1024 && this.spaceWaitersHead * 2 > waiters.length) {
      waiters.splice(0, this.spaceWaitersHead);
      this.spaceWaitersHead = 0;
    }
  }

  // ---- results from the transport ---------------------------------------------------------

  private async receive(): Promise<void> {
    try {
      for await (const events of this.transport.doReceive()) {
        for (const event of events) this.handleEvent(event);
      }
      if (!this.closed) this.transportEnded(new TransportError(`The transport ${this.transportId} stopped sending results`));
    } catch (error) {
      this.transportEnded(
        TsmwError.isInstance(error) ? error : new TransportError(`The transport ${this.transportId} failed: ${(error as Error)?.message}`, { cause: error }),
      );
    }
  }

  private transportEnded(error: TsmwError): void {
    for (const record of [...this.records.values()]) this.finish(record, { ok: false, error }, 'failed');
  }

  private handleEvent(event: TransportEventV1): void {
    const record = this.records.get(event.taskId);
    if (event.type === 'task-progress' || event.type === 'task-started') {
      if (record === undefined || record.status !== 'running') return;
      if (event.type === 'task-started') {
        if (this.events.has('task-started')) this.events.emit('task-started', { taskId: record.id, taskName: record.taskName });
      } else if (this.events.has('task-progress')) {
        this.events.emit('task-progress', { taskId: record.id, taskName: record.taskName, fraction: event.fraction });
      }
      return;
    }
    if (this.abandoned.delete(event.taskId)) {
      this.inFlight -= 1;
      this.scheduleDispatch();
    }
    if (record === undefined || record.status !== 'running') return;
    if (event.type === 'task-lost') {
      this.failAttempt(record, event.error);
      return;
    }
    let result;
    try {
      result = decodeResultEnvelope(event.bytes, { maxBytes: this.maxEnvelopeBytes });
    } catch (error) {
      this.failAttempt(record, error as TsmwError);
      return;
    }
    if (result.attempt !== record.attempt || (result.taskId !== record.id && result.taskId !== '')) return; // a stale attempt
    if (result.ok) {
      this.statsRecorder.recordCompleted(record.taskName, result.timing.wallMs, result.timing.cpuMs);
      const consoleLines = result.console ?? noConsole;
      if (this.events.has('task-completed')) {
        this.events.emit('task-completed', { taskId: record.id, taskName: record.taskName, output: result.output, timing: result.timing, console: consoleLines });
      }
      this.finish(record, { ok: true, output: result.output, console: consoleLines, timing: result.timing }, 'completed');
      return;
    }
    const error = new TaskFailedError(record.id, record.taskName, result.error, result.console ?? noConsole);
    this.failAttempt(record, error, result.timing);
  }

  private failAttempt(record: TaskRecord, error: Error, timing?: { wallMs: number; cpuMs: number }): void {
    if (record.settled) return;
    if (TsmwError.isInstance(error) && error.isRetryable && record.attempt <= record.retries && record.input !== undefined && !this.closed) {
      this.retry(record, error);
      return;
    }
    this.statsRecorder.recordFailed(record.taskName, timing);
    if (this.events.has('task-failed')) this.events.emit('task-failed', { taskId: record.id, taskName: record.taskName, error });
    this.finish(record, { ok: false, error }, 'failed');
  }

  private retry(record: TaskRecord, error: TsmwError): void {
    if (record.timer !== undefined) clearTimeout(record.timer);
    record.timer = undefined;
    record.attempt += 1;
    try {
      record.envelope = this.encode(record);
    } catch (encodeError) {
      this.finish(record, { ok: false, error: encodeError as Error }, 'failed');
      return;
    }
    this.inFlight -= 1;
    this.queued += 1;
    record.status = 'queued';
    this.retryQueue.push(record);
    this.statsRecorder.retried += 1;
    if (this.events.has('task-retried')) this.events.emit('task-retried', { taskId: record.id, taskName: record.taskName, attempt: record.attempt, error });
    this.scheduleDispatch();
  }

  private finish(record: TaskRecord, settlement: Parameters<TaskRecord['settle']>[0], status: 'completed' | 'failed' | 'cancelled'): void {
    if (record.settled) return;
    if (record.status === 'running') this.inFlight -= 1;
    else if (record.status === 'queued') this.queued -= 1;
    this.records.delete(record.id);
    if (this.transport.capabilities.durable && status !== 'cancelled') this.acknowledge(record.id);
    if (record.isPublic) {
      this.publicOpen -= 1;
      if (!record.claimed) this.unclaimed.add(record);
    }
    record.settle(settlement, status);
    if (record.isPublic) this.wakeResultWaiters();
    if (this.records.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
    this.releaseSpace();
    this.scheduleDispatch();
  }

  private acknowledge(taskId: string): void {
    const acknowledge = this.transport.doAcknowledge;
    if (acknowledge === undefined) return;
    if (this.pendingAcknowledgements.push(taskId) > 1) return;
    queueMicrotask(() => {
      const ids = this.pendingAcknowledgements;
      this.pendingAcknowledgements = [];
      acknowledge.call(this.transport, ids).catch((error: unknown) => {
        process.emitWarning(`The transport ${this.transportId} could not acknowledge ${ids.length} results: ${(error as Error)?.message}`, 'TsmwTransportWarning');
      });
    });
  }

  // ---- cancel and time-out ----------------------------------------------------------------

  private readonly cancelRecord = (record: TaskRecord, error?: Error): void => {
    if (record.settled) return;
    if (record.status === 'running') this.cancelAtTransport(record);
    this.statsRecorder.cancelled += 1;
    if (this.events.has('task-cancelled')) this.events.emit('task-cancelled', { taskId: record.id, taskName: record.taskName });
    this.finish(record, { ok: false, error: error ?? new TaskCancelledError(record.id) }, 'cancelled');
  };

  private readonly claimRecord = (record: TaskRecord): void => {
    this.unclaimed.delete(record);
  };

  private timeOut(record: TaskRecord): void {
    if (record.settled || record.status !== 'running') return;
    this.cancelAtTransport(record);
    const error = new TaskTimedOutError(record.id, record.options.timeoutMs ?? 0);
    this.statsRecorder.recordFailed(record.taskName);
    if (this.events.has('task-failed')) this.events.emit('task-failed', { taskId: record.id, taskName: record.taskName, error });
    this.finish(record, { ok: false, error }, 'failed');
  }

  /** Asks the transport to stop a running task (batched per microtask). */
  private cancelAtTransport(record: TaskRecord): void {
    if (!this.transport.capabilities.cancel) {
      // The task goes on at the transport; it keeps its in-flight place until it ends.
      this.abandoned.add(record.id);
      this.inFlight += 1;
      return;
    }
    if (this.pendingCancels.push(record.id) > 1) return;
    queueMicrotask(() => {
      const ids = this.pendingCancels;
      this.pendingCancels = [];
      this.transport.doCancel(ids).catch((error: unknown) => {
        process.emitWarning(`The transport ${this.transportId} could not cancel ${ids.length} tasks: ${(error as Error)?.message}`, 'TsmwTransportWarning');
      });
    });
  }

  // ---- collecting -------------------------------------------------------------------------

  results<Output>(handles?: readonly TaskHandle<Output>[]): AsyncIterableIterator<SettledTask<Output>> {
    return (handles === undefined ? this.allResults() : this.handleResults(handles)) as AsyncIterableIterator<SettledTask<Output>>;
  }

  private async *allResults(): AsyncIterableIterator<SettledTask<unknown>> {
    for (;;) {
      const next = this.unclaimed.values().next();
      if (!next.done) {
        const record = next.value;
        this.unclaimed.delete(record);
        record.claimed = true;
        yield record.toSettledTask();
        continue;
      }
      if (this.publicOpen === 0) return;
      await new Promise<void>((resolve) => this.resultWaiters.push(resolve));
    }
  }

  private async *handleResults(handles: readonly TaskHandle<unknown>[]): AsyncIterableIterator<SettledTask<unknown>> {
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
      record.claimed = true;
      this.unclaimed.delete(record);
      yield record.toSettledTask();
    }
  }

  private wakeResultWaiters(): void {
    if (this.resultWaiters.length === 0) return;
    const waiters = this.resultWaiters;
    this.resultWaiters = [];
    for (const waiter of waiters) waiter();
  }

  async map(task: TaskDefinition<never, unknown>, inputs: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions = {}): Promise<never[]> {
    const outputs: unknown[] = [];
    for await (const output of this.mapStream(task, inputs as Iterable<never>, options)) outputs.push(output);
    return outputs as never[];
  }

  async *mapStream(task: TaskDefinition<never, unknown>, inputs: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions = {}): AsyncIterableIterator<never> {
    this.assertOpen();
    this.resolveTask(task);
    const concurrency = Math.floor(positive(options.concurrency ?? Math.min(this.maxInFlight, MAX_MAP_CONCURRENCY), 'concurrency'));
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
          this.assertOpen();
          const record = this.createRecord(task.name, step.value, options, false);
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
        if (!settlement.ok) throw settlement.error;
        yield settlement.output as never;
      }
    } finally {
      for (const record of window.values()) this.cancelRecord(record, new TaskCancelledError(record.id, 'cancelled because its map ended early'));
      if (!exhausted) await closeIterator(iterator);
    }
  }

  async mapReduce<Input, Mapped>(
    mapTask: TaskDefinition<Input, Mapped>,
    reduceTask: TaskDefinition<Awaited<Mapped>[], Mapped>,
    inputs: Iterable<Input> | AsyncIterable<Input>,
    options: MapReduceOptions = {},
  ): Promise<Awaited<Mapped>> {
    this.resolveTask(reduceTask as TaskDefinition<never, unknown>);
    const reducers = Math.floor(positive(options.reducers ?? 1, 'reducers'));
    const mapped = (await this.map(mapTask as TaskDefinition<never, unknown>, inputs as Iterable<never>, options)) as Awaited<Mapped>[];
    const parts = Math.max(1, Math.min(reducers, mapped.length));
    const chunks: Awaited<Mapped>[][] = [];
    const size = Math.ceil(mapped.length / parts);
    for (let start = 0; start < mapped.length || chunks.length === 0; start += Math.max(1, size)) chunks.push(mapped.slice(start, start + size));
    const partials = (await this.map(reduceTask as TaskDefinition<never, unknown>, chunks as never[], options)) as Awaited<Mapped>[];
    if (partials.length === 1) return partials[0]!;
    const [total] = (await this.map(reduceTask as TaskDefinition<never, unknown>, [partials] as never[], options)) as Awaited<Mapped>[];
    return total!;
  }

  // ---- stats, events, recovery, close -----------------------------------------------------

  stats(): MasterStats {
    return this.statsRecorder.snapshot(this.queued, this.inFlight);
  }

  on<Name extends MasterEventName>(name: Name, listener: MasterEventListener<Name>): () => void {
    return this.events.on(name, listener);
  }

  recover(recovered: readonly { taskId: string; taskName: string; attempt: number; submittedAt: number }[]): void {
    const handles: TaskRecord[] = [];
    for (const task of recovered) {
      const record = new TaskRecord(task.taskId, task.taskName, undefined, task.submittedAt, {}, [], 0, this.cancelRecord, this.claimRecord);
      record.isPublic = true;
      record.status = 'running';
      record.attempt = task.attempt;
      this.records.set(record.id, record);
      this.inFlight += 1;
      this.publicOpen += 1;
      handles.push(record);
    }
    this.recovered = handles;
  }

  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutDown(options.force === true);
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close({ force: true });
  }

  private async shutDown(force: boolean): Promise<void> {
    this.closed = true;
    this.forceClosing = force;
    const waiters = this.spaceWaiters.slice(this.spaceWaitersHead);
    this.spaceWaiters = [];
    this.spaceWaitersHead = 0;
    for (const waiter of waiters) waiter.reject(new MasterClosedError('The master closed before the task could be queued'));
    if (!force && this.records.size > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (force) {
      const durable = this.transport.capabilities.durable;
      for (const record of [...this.records.values()]) {
        if (durable && record.status === 'running') {
          this.finish(record, { ok: false, error: new MasterClosedError(`The master closed; task ${record.id} goes on and the next master recovers it`) }, 'failed');
        } else {
          this.cancelRecord(record, new TaskCancelledError(record.id, 'cancelled because the master closed'));
        }
      }
    }
    await this.transport.doClose({ force });
    await this.receiving;
    this.wakeResultWaiters();
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !(value > 0)) throw new InvalidArgumentError(`${name} must be a positive number, not ${value}`);
  return value;
}

function normalizeFiles(files: SubmitOptions['files']): readonly TaskFileV1[] {
  if (files === undefined) return noFiles;
  const list: TaskFileV1[] = Array.isArray(files)
    ? [...(files as readonly TaskFileV1[])]
    : Object.entries(files as Readonly<Record<string, Uint8Array | string>>).map(([name, value]) =>
        typeof value === 'string' ? { name, path: value } : { name, data: value },
      );
  const seen = new Set<string>();
  for (const file of list) {
    if (typeof file?.name !== 'string' || !fileNamePattern.test(file.name)) {
      throw new InvalidArgumentError(`Data file name ${JSON.stringify(file?.name)} is not allowed: use 1 to 255 letters, digits, ".", "_" or "-"`);
    }
    if (seen.has(file.name)) throw new InvalidArgumentError(`Data file "${file.name}" is given twice`);
    seen.add(file.name);
    if (!('data' in file && file.data instanceof Uint8Array) && !('path' in file && typeof file.path === 'string')) {
      throw new InvalidArgumentError(`Data file "${file.name}" needs either data (a Uint8Array) or a path`);
    }
  }
  return list;
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
