import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EnvelopeTooLargeError } from '../errors/envelope-too-large-error.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { MasterClosedError } from '../errors/master-closed-error.js';
import { TaskCancelledError } from '../errors/task-cancelled-error.js';
import { TaskFailedError } from '../errors/task-failed-error.js';
import { TaskKeyConflictError } from '../errors/task-key-conflict-error.js';
import { TaskModuleMismatchError } from '../errors/task-module-mismatch-error.js';
import { TaskTimedOutError } from '../errors/task-timed-out-error.js';
import { TransportError } from '../errors/transport-error.js';
import { TsmwError } from '../errors/tsmw-error.js';
import { callerModuleUrl, moduleFileUrl } from '../task/caller-module.js';
import { isTaskDefinition, taskDefinedIn, type TaskDefinition } from '../task/define-task.js';
import { hashTaskModule, isTaskModuleHash } from '../task/hash-task-module.js';
import { indexTaskModule, type TaskRegistry } from '../task/task-module.js';
import { assertTransport } from '../transport/is-transport.js';
import type { RecoveredTaskV1, TaskFileV1, Transport, TransportEventV1 } from '../transport/transport-v1.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, WIRE_FORMAT_VERSION } from '../wire/limits.js';
import { decodeResultEnvelopeOf } from '../wire/result-envelope.js';
import { TaskEnvelopeEncoder } from '../wire/task-envelope.js';
import { assertBatchName } from './batch-name.js';
import { DeadlineTimer } from './deadline-timer.js';
import { EventHub, type MasterEventListener, type MasterEventName } from './events.js';
import { mapReduce } from './map-reduce.js';
import { mapAll, mapStream, type MapHost } from './map.js';
import type { CloseOptions, MapOptions, MapReduceOptions, Master, MasterOptions } from './master.js';
import { allResults, handleResults } from './results.js';
import { StatsRecorder, type MasterStats } from './stats.js';
import { SubmissionQueue } from './submission-queue.js';
import type { SettledTask, SubmitOptions, TaskHandle } from './task-handle.js';
import { assertTaskKey, hashTaskInput, taskIdForKey } from './task-keys.js';
import { TaskRecord, type Settlement, type TaskOwner, type TaskRecordHost } from './task-record.js';
import type { TaskEvent } from './task-states.js';
import { TaskTable } from './task-table.js';
import { TransportSession, type SessionHost } from './transport-session.js';

const DEFAULT_MAX_QUEUED = 100_000;
const DEFAULT_RETRIES = 2;
const MAX_MAP_CONCURRENCY = 65_536;
const fileNamePattern = /^(?!\.\.?$)[\w.-]{1,255}$/;
const noFiles: readonly TaskFileV1[] = Object.freeze([]);
const noConsole: readonly never[] = Object.freeze([]);
const noOptions = Object.freeze({}) as SubmitOptions & MapOptions & MapReduceOptions & CloseOptions;

/**
 * Creates a master for a task module on a transport: loads the module (to know its tasks and
 * the code's hash), starts the transport (with the batch name, on durable transports getting
 * back what an earlier master of the batch left), and begins collecting results.
 *
 * ```ts
 * const master = await createMaster({ transport: createLocalTransport(), tasks: new URL('./tasks.js', import.meta.url) });
 * try {
 *   const outputs = await master.map(pi, inputs);
 * } finally {
 *   await master.close();
 * }
 * ```
 */
export async function createMaster(options: MasterOptions): Promise<Master> {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('createMaster needs options: { transport, tasks }');
  assertTransport(options.transport);
  const moduleUrl = toModuleUrl(options.tasks);
  const caller = callerModuleUrl(createMaster);
  if (caller !== undefined && moduleFileUrl(caller) === moduleFileUrl(moduleUrl.href)) {
    throw new InvalidArgumentError(
      `The task module ${moduleUrl.href} is the master's own file: put the tasks in a module of their own and import them from there (every worker loads the task module, and it would run the master again)`,
    );
  }
  if (options.batch !== undefined) assertBatchName(options.batch);
  if (options.batch === undefined && options.transport.capabilities.durable) {
    throw new InvalidArgumentError(
      `The transport ${options.transport.transportId} is durable: give createMaster a batch name (for example batch: 'pi-2026-11'), so that a master started again finds its tasks`,
    );
  }
  let source: Uint8Array;
  try {
    source = await readFile(fileURLToPath(moduleUrl));
  } catch (error) {
    throw new InvalidArgumentError(`Cannot read the task module ${moduleUrl.href}: ${(error as Error).message}`, { cause: error });
  }
  const fileHash = hashTaskModule(source);
  let namespace: unknown;
  try {
    namespace = await import(moduleUrl.href);
  } catch (error) {
    throw new InvalidArgumentError(`Cannot load the task module ${moduleUrl.href}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
  const registry = indexTaskModule(namespace);
  if (registry.size === 0) {
    throw new InvalidArgumentError(`The task module ${moduleUrl.href} exports no task (define them with defineTask and export them)`);
  }
  const transport = options.transport;
  const maxEnvelopeBytes = Math.min(options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, transport.capabilities.maxEnvelopeBytes);
  if (!(maxEnvelopeBytes > 0) || !Number.isFinite(maxEnvelopeBytes)) {
    throw new InvalidArgumentError(`maxEnvelopeBytes must be a positive, finite number of bytes, not ${options.maxEnvelopeBytes ?? transport.capabilities.maxEnvelopeBytes}`);
  }
  let started;
  try {
    started = await transport.doStart({
      taskModule: { url: moduleUrl.href, hash: fileHash, taskNames: [...registry.keys()] },
      maxEnvelopeBytes,
      ...(options.batch === undefined ? {} : { batch: options.batch }),
    });
  } catch (error) {
    if (TsmwError.isInstance(error)) throw error;
    throw new TransportError(`The transport ${transport.transportId} did not start: ${(error as Error)?.message}`, { cause: error });
  }
  const moduleHash = started?.taskModuleHash ?? fileHash;
  if (!isTaskModuleHash(moduleHash)) {
    throw new TransportError(`The transport ${transport.transportId} named a task module hash that is not a sha256: ${JSON.stringify(moduleHash)}`);
  }
  const master = new MasterImplementation(transport, registry, moduleUrl.href, moduleHash, maxEnvelopeBytes, options);
  master.recover(started?.recovered ?? []);
  return master;
}

function toModuleUrl(tasks: string | URL): URL {
  if (tasks instanceof URL) return tasks;
  if (typeof tasks !== 'string' || tasks === '') throw new InvalidArgumentError('createMaster needs `tasks`: the path or URL of the task module');
  return /^file:/i.test(tasks) ? new URL(tasks) : pathToFileURL(resolvePath(tasks));
}

class MasterImplementation implements Master, TaskRecordHost, SessionHost, MapHost {
  readonly transportId: string;
  readonly batch: string | undefined;
  readonly keysEveryTask: boolean;
  readonly defaultMapConcurrency: number;

  private readonly table: TaskTable;
  private readonly queue: SubmissionQueue;
  private readonly session: TransportSession;
  private readonly deadlines = new DeadlineTimer<TaskRecord>((record) => this.timeOut(record));
  private readonly statsRecorder = new StatsRecorder();
  /** Task envelopes, encoded as `encodeTaskEnvelope` would (byte for byte), at less cost per task. */
  private readonly envelopes: TaskEnvelopeEncoder;
  private readonly events = new EventHub();
  private readonly durable: boolean;
  private readonly retries: number;
  /** Inputs stay on their records (a schedule hook sees them); otherwise they live in the envelopes only. */
  private readonly keepsInputs: boolean;
  /**
   * Six random base-36 characters and a dash: with the counter, ids of up to 12 characters (the
   * first 60 million tasks), which V8 makes as flat strings. A longer one is made as a pair of
   * strings and flattened into a third when first read (about 300 ns more per id, measured).
   */
  private readonly idPrefix = `${(randomBytes(4).readUInt32BE(0) % 36 ** 6).toString(36).padStart(6, '0')}-`;
  /** Definitions already found to be the task module's own. */
  private readonly checkedTasks = new WeakSet<object>();
  private counter = 0;
  private submitOrdinal = 0;
  private mapOrdinal = 0;
  private recoveredCount = 0;
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly registry: TaskRegistry,
    private readonly moduleUrl: string,
    readonly moduleHash: string,
    private readonly maxEnvelopeBytes: number,
    options: MasterOptions,
  ) {
    this.transportId = transport.transportId;
    this.table = new TaskTable(this.idPrefix, () => this.queue.records());
    this.batch = options.batch;
    this.envelopes = new TaskEnvelopeEncoder(moduleHash, WIRE_FORMAT_VERSION);
    const capabilities = transport.capabilities;
    this.durable = capabilities.durable === true;
    this.keysEveryTask = this.durable;
    const maxInFlight = positive(options.maxInFlight ?? capabilities.maxInFlight, 'maxInFlight');
    const maxBatchSize = Math.max(1, Math.floor(positive(capabilities.maxBatchSize, 'maxBatchSize')));
    const maxQueued = positive(options.maxQueued ?? DEFAULT_MAX_QUEUED, 'maxQueued');
    this.retries = options.retries ?? DEFAULT_RETRIES;
    if (!Number.isInteger(this.retries) || this.retries < 0) throw new InvalidArgumentError(`retries must be a whole number >= 0, not ${this.retries}`);
    if (options.schedule !== undefined && typeof options.schedule !== 'function') throw new InvalidArgumentError('schedule must be a function (queue) => index');
    this.keepsInputs = options.schedule !== undefined;
    this.defaultMapConcurrency = capabilities.latency === 'batch' ? Number.POSITIVE_INFINITY : Math.min(maxInFlight, MAX_MAP_CONCURRENCY);
    this.queue = new SubmissionQueue(options.schedule, maxQueued, (message) => this.warn(message, 'TsmwScheduleWarning'));
    this.session = new TransportSession(transport, this.table, this.queue, this, maxInFlight, maxBatchSize, () => this.closed);
  }

  get recovered(): readonly TaskHandle<unknown>[] {
    return this.table.unattached().filter((record) => record.settlement === undefined || !record.claimed);
  }

  // ---- submission -------------------------------------------------------------------------

  submit(task: TaskDefinition<never, unknown>, input?: unknown, options: SubmitOptions = noOptions): Promise<TaskHandle<never>> {
    // Not an async function: the common case (room in the queue) costs one resolved promise.
    try {
      this.assertOpen();
      this.resolveTask(task);
      if (this.queue.isFull(this.table.counts.queued)) return this.submitWhenRoom(task, input, options);
      return Promise.resolve(this.queueSubmission(task, input, options));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  private async submitWhenRoom(task: TaskDefinition<never, unknown>, input: unknown, options: SubmitOptions): Promise<TaskHandle<never>> {
    while (this.queue.isFull(this.table.counts.queued)) {
      await this.queue.waitForSpace();
      this.queue.takeGrantedSpace();
      this.assertOpen();
    }
    return this.queueSubmission(task, input, options);
  }

  private queueSubmission(task: TaskDefinition<never, unknown>, input: unknown, options: SubmitOptions): TaskHandle<never> {
    const key = options.key ?? (this.keysEveryTask ? `submit-${++this.submitOrdinal}` : undefined);
    return this.createRecord(task.name, input, options, 'submit', key) as unknown as TaskHandle<never>;
  }

  createMapRecord(taskName: string, input: unknown, options: MapOptions, key: string | undefined, files: SubmitOptions['files']): TaskRecord {
    return this.createRecord(taskName, input, options as unknown as SubmitOptions, 'map', key, files);
  }

  private createRecord(
    taskName: string,
    input: unknown,
    options: SubmitOptions,
    owner: TaskOwner,
    key: string | undefined,
    givenFiles: SubmitOptions['files'] = owner === 'map' ? undefined : options.files,
  ): TaskRecord {
    const files = givenFiles === undefined ? noFiles : normalizeFiles(givenFiles);
    if (files.length > 0 && !this.transport.capabilities.files) {
      throw new InvalidArgumentError(`The transport ${this.transportId} cannot deliver data files`);
    }
    if (options.timeoutMs !== undefined && !(typeof options.timeoutMs === 'number' && options.timeoutMs > 0)) {
      throw new InvalidArgumentError(`timeoutMs must be a positive number of milliseconds, not ${options.timeoutMs}`);
    }
    const deadline = options.deadline === undefined ? undefined : toDeadline(options.deadline);
    const retries = options.retries ?? this.retries;
    if (retries !== this.retries && (!Number.isInteger(retries) || retries < 0)) throw new InvalidArgumentError(`retries must be a whole number >= 0, not ${retries}`);
    let id: string;
    let inputHash: string | undefined;
    if (key !== undefined) {
      assertTaskKey(key);
      id = taskIdForKey(key);
      inputHash = hashTaskInput(taskName, input, files.map((file) => file.name), this.maxEnvelopeBytes);
      const existing = this.table.get(id) ?? this.table.unattachedTask(id);
      if (existing !== undefined) {
        const attached = this.attach(existing, key, taskName, input, inputHash, owner, files, retries);
        if (attached !== undefined) return attached;
      }
    } else {
      id = this.idPrefix + (this.counter++).toString(36);
    }
    const record = new TaskRecord(this, id, taskName, input, Date.now(), options, files, retries, key, inputHash);
    record.owner = owner;
    record.hasInput = true;
    if (deadline !== undefined) record.deadline = deadline;
    this.encode(record); // throws EnvelopeTooLargeError / UnsupportedValueError... to the caller
    this.enqueue(record);
    return record;
  }

  /** A new record (or a revived one) joins the table and the queue. */
  private enqueue(record: TaskRecord, attempt = 1): void {
    record.attempt = attempt;
    this.table.add(record, 'queued');
    this.queue.push(record);
    this.statsRecorder.recordSubmitted();
    if (record.deadline !== undefined) this.deadlines.add(record);
    if (this.events.has('task-submitted')) this.events.emit('task-submitted', { taskId: record.id, taskName: record.taskName });
    const signal = record.options.signal;
    if (signal !== undefined) {
      if (signal.aborted) this.cancelRecord(record);
      else {
        const onAbort = (): void => this.cancelRecord(record);
        signal.addEventListener('abort', onAbort, { once: true });
        record.whenSettled(() => signal.removeEventListener('abort', onAbort));
      }
    }
    this.session.scheduleDispatch();
  }

  /**
   * A submission with a key this master already holds: the same task (open, or recovered from
   * an earlier master) is returned instead of a new one. Returns undefined when the held task
   * ended in a retryable failure: the submission then runs it again as the next attempt.
   */
  private attach(
    existing: TaskRecord,
    key: string,
    taskName: string,
    input: unknown,
    inputHash: string,
    owner: TaskOwner,
    files: readonly TaskFileV1[],
    retries: number,
  ): TaskRecord | undefined {
    if (existing.taskName !== taskName || (existing.inputHash !== undefined && existing.inputHash !== inputHash)) {
      const what = existing.taskName !== taskName ? `task "${existing.taskName}"` : `another input`;
      throw new TaskKeyConflictError(
        key,
        `The key ${JSON.stringify(key)} already names ${what}${this.batch === undefined ? '' : ` in batch ${this.batch}`}: a key names one piece of work; give this task another key${this.batch === undefined ? '' : ' (or use a new batch for new work)'}`,
      );
    }
    if (existing.owner !== 'recovered') return existing; // open in this master: the same handle
    this.table.changeOwner(existing, owner);
    existing.inputHash ??= inputHash;
    const settlement = existing.settlement;
    if (settlement === undefined) {
      existing.input = input;
      existing.hasInput = true;
      existing.files = files;
      existing.retries = retries;
      return existing;
    }
    // It settled before anyone attached: a retryable loss is run again, now that the input is known.
    if (!settlement.ok && TsmwError.isInstance(settlement.error) && settlement.error.isRetryable && existing.attempt <= retries && !this.closed) {
      existing.claimed = true; // leaves results(); the new attempt replaces it
      const retry = new TaskRecord(this, existing.id, taskName, input, existing.submittedAt, noOptions, files, retries, key, existing.inputHash);
      retry.owner = owner;
      retry.hasInput = true;
      retry.attempt = existing.attempt + 1;
      this.encode(retry);
      this.enqueue(retry, existing.attempt + 1);
      this.statsRecorder.retried += 1;
      return retry;
    }
    if (owner === 'map') existing.claimed = true; // the map hands it over, not results()
    return existing;
  }

  /**
   * Encodes the record's envelope for its attempt and deadline, from its input or, once the
   * input was let go, from the input's bytes in its current envelope. Throws (changing nothing)
   * if it cannot be encoded. Once encoded, the input object is let go (another attempt is
   * encoded from its bytes), unless a schedule hook is to see it.
   */
  private encode(record: TaskRecord): void {
    const fileNames = record.files.length > 0 ? record.files.map((file) => file.name) : undefined;
    const envelope = record.inputInEnvelope
      ? this.envelopes.encodeWithInputBytes(record.id, record.taskName, record.attempt, record.inputBytes(), record.deadline, fileNames, this.maxEnvelopeBytes)
      : this.envelopes.encode(record.id, record.taskName, record.attempt, record.input, record.deadline, fileNames, this.maxEnvelopeBytes);
    const inputStart = this.envelopes.inputStart;
    const inputEnd = this.envelopes.inputEnd;
    if (record.files.length > 0) {
      let total = envelope.byteLength;
      for (const file of record.files) if ('data' in file) total += file.data.byteLength;
      if (total > this.maxEnvelopeBytes) throw new EnvelopeTooLargeError(total, this.maxEnvelopeBytes, 'task envelope with its data files');
    }
    record.envelope = envelope;
    record.inputStart = inputStart;
    record.inputEnd = inputEnd;
    if (!this.keepsInputs) {
      record.input = undefined;
      record.inputInEnvelope = true;
    }
  }

  /**
   * `submit` takes only the task module's own definitions: the workers run the module's code,
   * so a definition from elsewhere (another file, an older compile) would run other code than
   * the caller holds.
   */
  resolveTask(task: TaskDefinition<never, unknown>): void {
    if (this.checkedTasks.has(task)) return;
    if (!isTaskDefinition(task)) throw new InvalidArgumentError('submit needs a task made by defineTask and exported by the task module');
    const registered = this.registry.get(task.name);
    const definedIn = taskDefinedIn(task as TaskDefinition);
    if (registered === undefined) {
      throw new InvalidArgumentError(
        `Task "${task.name}"${definedIn === undefined ? '' : ` (defined in ${definedIn})`} is not exported by the master's task module ${this.moduleUrl} (it has: ${[...this.registry.keys()].join(', ')})`,
      );
    }
    if (registered !== task) {
      const registeredIn = taskDefinedIn(registered);
      const sameFile = definedIn !== undefined && registeredIn !== undefined && moduleFileUrl(definedIn) === moduleFileUrl(registeredIn);
      if (!sameFile) {
        throw new TaskModuleMismatchError(
          `Task "${task.name}" was defined in ${definedIn ?? 'another module'}, but the master's task module is ${this.moduleUrl}, whose "${task.name}" is another definition: the workers would run the task module's code, not the one you hold. Import the task from the task module the master runs, or give createMaster the module you import it from`,
        );
      }
    }
    this.checkedTasks.add(task);
  }

  assertOpen(): void {
    if (this.closed) throw new MasterClosedError('The master is closed: no more tasks can be submitted');
  }

  nextMapOrdinal(): number {
    return this.mapOrdinal++;
  }

  // ---- dispatch (SessionHost) -------------------------------------------------------------

  prepareDispatch(record: TaskRecord): boolean {
    const timeoutMs = record.options.timeoutMs;
    if (timeoutMs === undefined) return true;
    // The time-out counts from now: the envelope carries the deadline it makes.
    const deadline = Date.now() + timeoutMs;
    if (record.deadline === undefined || deadline < record.deadline) {
      this.deadlines.remove(record);
      record.deadline = deadline;
      try {
        this.encode(record);
      } catch (error) {
        this.settle(record, 'fail', { ok: false, error: error as Error, fromTransport: false });
        return false;
      }
      this.deadlines.add(record);
    }
    return true;
  }

  dispatchFailed(record: TaskRecord, error: TsmwError): void {
    this.failAttempt(record, error, undefined, false);
  }

  // ---- results from the transport (SessionHost) -------------------------------------------

  handleEvents(events: readonly TransportEventV1[]): void {
    for (const event of events) this.handleEvent(event);
  }

  private handleEvent(event: TransportEventV1): void {
    const record = this.table.get(event.taskId);
    if (event.type === 'task-progress' || event.type === 'task-started') {
      if (record === undefined) return;
      if (event.type === 'task-started') {
        if (this.table.transition(record, 'start') && this.events.has('task-started')) {
          this.events.emit('task-started', { taskId: record.id, taskName: record.taskName });
        }
      } else if (this.events.has('task-progress') && (record.state === 'dispatched' || record.state === 'running')) {
        this.events.emit('task-progress', { taskId: record.id, taskName: record.taskName, fraction: event.fraction });
      }
      return;
    }
    this.session.release(event.taskId);
    if (record === undefined) return;
    if (event.type === 'task-lost') {
      this.failAttempt(record, event.error, undefined, true);
      return;
    }
    let result;
    try {
      result = decodeResultEnvelopeOf(event.bytes, this.maxEnvelopeBytes, record.id);
    } catch (error) {
      this.failAttempt(record, error as TsmwError, undefined, true);
      return;
    }
    if (result.taskId !== record.id && result.taskId !== '') return; // another task's bytes: not this task's result
    // An attempt this master already gave up on (lost, then retried). A later attempt is welcome: a
    // durable transport may hold the result of a retry an earlier master made for the same key.
    if (result.attempt < record.attempt) return;
    // A result is also word that the task started: a transport that sends no `task-started`
    // before it (the local one, for tasks that end within a batch) costs no event per task.
    if (record.state === 'dispatched' && this.table.transition(record, 'start') && this.events.has('task-started')) {
      this.events.emit('task-started', { taskId: record.id, taskName: record.taskName });
    }
    if (result.ok) {
      this.statsRecorder.recordCompleted(record.taskName, result.timing.wallMs, result.timing.cpuMs);
      const consoleLines = result.console ?? noConsole;
      if (this.events.has('task-completed')) {
        this.events.emit('task-completed', { taskId: record.id, taskName: record.taskName, output: result.output, timing: result.timing, console: consoleLines });
      }
      this.settle(record, 'complete', { ok: true, output: result.output, console: consoleLines, timing: result.timing });
      return;
    }
    if (result.error.code === TaskTimedOutError.code && record.deadline !== undefined) {
      // The worker stopped the task at the deadline the envelope carried: the task timed out.
      this.timeOut(record);
      return;
    }
    const error = new TaskFailedError(record.id, record.taskName, result.error, result.console ?? noConsole);
    this.failAttempt(record, error, result.timing, true);
  }

  transportEnded(error: TsmwError): void {
    for (const record of this.table.openRecords()) this.settle(record, 'transport-end', { ok: false, error, fromTransport: false });
  }

  warn(message: string, type = 'TsmwTransportWarning'): void {
    process.emitWarning(message, type);
  }

  private failAttempt(record: TaskRecord, error: Error, timing: { wallMs: number; cpuMs: number } | undefined, fromTransport: boolean): void {
    if (record.settlement !== undefined) return;
    if (TsmwError.isInstance(error) && error.isRetryable && record.attempt <= record.retries && record.hasInput && !this.closed) {
      this.retry(record, error);
      return;
    }
    if (timing !== undefined || record.state !== 'queued') this.statsRecorder.recordFailed(record.taskName, timing);
    if (this.events.has('task-failed')) this.events.emit('task-failed', { taskId: record.id, taskName: record.taskName, error });
    this.settle(record, 'fail', { ok: false, error, fromTransport });
  }

  private retry(record: TaskRecord, error: TsmwError): void {
    this.deadlines.remove(record);
    record.attempt += 1;
    if (record.options.timeoutMs !== undefined) record.deadline = undefined; // counts again from the next dispatch
    try {
      this.encode(record);
    } catch (encodeError) {
      this.settle(record, 'fail', { ok: false, error: encodeError as Error, fromTransport: false });
      return;
    }
    if (!this.table.transition(record, 'retry')) return;
    if (record.deadline !== undefined) this.deadlines.add(record);
    this.queue.pushRetry(record);
    this.statsRecorder.retried += 1;
    if (this.events.has('task-retried')) this.events.emit('task-retried', { taskId: record.id, taskName: record.taskName, attempt: record.attempt, error });
    this.session.scheduleDispatch();
  }

  /** Every end of a task goes through here: the table moves it, then the master tidies up. */
  private settle(record: TaskRecord, event: TaskEvent, settlement: Settlement): boolean {
    const wasQueued = record.state === 'queued';
    if (!this.table.settle(record, event, settlement)) return false;
    if (wasQueued) this.queue.noteSettledInQueue();
    this.deadlines.remove(record);
    if (record.handedOver) this.acknowledgeIfDue(record);
    this.queue.releaseSpace(this.table.counts.queued);
    this.session.scheduleDispatch();
    return true;
  }

  // ---- claiming, handing over, acknowledging (TaskRecordHost) -----------------------------

  /** `result` was read: the task is the reader's, and its outcome reaches them once settled. */
  claimRecord(record: TaskRecord): void {
    record.claimed = true;
    this.handOver(record);
  }

  /** The outcome is (or, once settled, will be) in the user's hands. */
  handOver(record: TaskRecord): void {
    record.claimed = true;
    record.handedOver = true;
    this.table.forgetUnattached(record);
    if (record.settlement !== undefined) this.acknowledgeIfDue(record);
  }

  /** Durable transports keep a result until it was handed over, and only what came from the transport. */
  private acknowledgeIfDue(record: TaskRecord): void {
    if (!this.durable || record.acknowledged) return;
    const settlement = record.settlement;
    if (settlement === undefined || (!settlement.ok && !settlement.fromTransport)) return;
    this.session.acknowledge(record);
  }

  // ---- cancel and time-out ----------------------------------------------------------------

  readonly cancelRecord = (record: TaskRecord, error?: Error): void => {
    if (record.settlement !== undefined) return;
    if (record.state !== 'queued') this.session.cancel(record);
    if (this.events.has('task-cancelled')) this.events.emit('task-cancelled', { taskId: record.id, taskName: record.taskName });
    this.settle(record, 'cancel', { ok: false, error: error ?? new TaskCancelledError(record.id), fromTransport: false });
  };

  private timeOut(record: TaskRecord): void {
    if (record.settlement !== undefined) return;
    if (record.state !== 'queued') this.session.cancel(record);
    const timeoutMs = record.options.timeoutMs ?? Math.max(0, (record.deadline ?? Date.now()) - record.submittedAt);
    const error = new TaskTimedOutError(record.id, timeoutMs);
    this.statsRecorder.recordFailed(record.taskName);
    if (this.events.has('task-failed')) this.events.emit('task-failed', { taskId: record.id, taskName: record.taskName, error });
    this.settle(record, record.state === 'queued' ? 'fail' : 'time-out', { ok: false, error, fromTransport: false });
  }

  // ---- collecting -------------------------------------------------------------------------

  results<Output>(handles?: readonly TaskHandle<Output>[]): AsyncIterableIterator<SettledTask<Output>> {
    const handOver = (record: TaskRecord): void => this.handOver(record);
    return (handles === undefined ? allResults(this.table, handOver) : handleResults(handles, handOver)) as AsyncIterableIterator<SettledTask<Output>>;
  }

  async map(task: TaskDefinition<never, unknown>, inputs: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions = noOptions): Promise<never[]> {
    return (await mapAll(this, task, inputs, options)) as never[];
  }

  mapStream(task: TaskDefinition<never, unknown>, inputs: Iterable<unknown> | AsyncIterable<unknown>, options: MapOptions = noOptions): AsyncIterableIterator<never> {
    return mapStream(this, task, inputs, options) as AsyncIterableIterator<never>;
  }

  mapReduce<Input, Mapped>(
    mapTask: TaskDefinition<Input, Mapped>,
    reduceTask: TaskDefinition<Awaited<Mapped>[], Mapped>,
    inputs: Iterable<Input> | AsyncIterable<Input>,
    options: MapReduceOptions<Input> = noOptions,
  ): Promise<Awaited<Mapped>> {
    return mapReduce(
      this,
      mapTask as unknown as TaskDefinition<never, unknown>,
      reduceTask as unknown as TaskDefinition<never, unknown>,
      inputs,
      options as MapReduceOptions,
    ) as Promise<Awaited<Mapped>>;
  }

  // ---- stats, events, recovery, close -----------------------------------------------------

  stats(): MasterStats {
    const counts = this.table.counts;
    return this.statsRecorder.snapshot({
      queued: counts.queued,
      running: this.session.inFlight,
      completed: counts.completed,
      failed: counts.failed,
      cancelled: counts.cancelled,
      recovered: this.recoveredCount,
    });
  }

  on<Name extends MasterEventName>(name: Name, listener: MasterEventListener<Name>): () => void {
    return this.events.on(name, listener);
  }

  recover(recovered: readonly RecoveredTaskV1[]): void {
    for (const task of recovered) {
      if (this.table.get(task.taskId) !== undefined) continue; // a transport that lists a task twice
      const record = new TaskRecord(this, task.taskId, task.taskName, undefined, task.submittedAt, noOptions, noFiles, 0, task.key, task.inputHash);
      record.owner = 'recovered';
      record.attempt = task.attempt;
      if (task.deadline !== undefined) record.deadline = task.deadline;
      this.table.add(record, 'dispatched');
      if (record.deadline !== undefined) this.deadlines.add(record);
      this.recoveredCount += 1;
    }
  }

  close(options: CloseOptions = noOptions): Promise<void> {
    this.closing ??= this.shutDown(options.force === true);
    return this.closing;
  }

  async detach(): Promise<void> {
    if (!this.durable) {
      throw new InvalidArgumentError(`The transport ${this.transportId} is not durable: its tasks would be lost; use close()`);
    }
    await this.close({ force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close({ force: true });
  }

  private async shutDown(force: boolean): Promise<void> {
    this.closed = true;
    this.queue.rejectWaiting();
    if (!force) await this.table.whenOwnedIdle();
    else {
      // A durable transport keeps what it was given: hand it what is still queued here first.
      if (this.durable) await this.session.flush();
      this.session.stop();
    }
    for (const record of this.table.openRecords()) {
      if (record.state === 'queued') {
        this.cancelRecord(record, new TaskCancelledError(record.id, 'cancelled because the master closed'));
      } else if (this.durable) {
        this.settle(record, 'close', {
          ok: false,
          error: new MasterClosedError(`The master closed; task ${record.id} goes on at the transport and the next master of batch ${this.batch} gets it`),
          fromTransport: false,
        });
      } else {
        this.cancelRecord(record, new TaskCancelledError(record.id, 'cancelled because the master closed'));
      }
    }
    this.deadlines.clear();
    await this.session.close(force);
    this.table.wakeCollectors();
  }
}

function positive(value: number, name: string): number {
  if (typeof value !== 'number' || !(value > 0)) throw new InvalidArgumentError(`${name} must be a positive number, not ${value}`);
  return value;
}

function toDeadline(deadline: Date | number): number {
  const time = deadline instanceof Date ? deadline.getTime() : deadline;
  if (typeof time !== 'number' || !Number.isFinite(time)) throw new InvalidArgumentError(`deadline must be a Date or epoch milliseconds, not ${String(deadline)}`);
  return time;
}

function normalizeFiles(files: NonNullable<SubmitOptions['files']>): readonly TaskFileV1[] {
  const list: TaskFileV1[] = Array.isArray(files)
    ? [...(files as readonly TaskFileV1[])]
    : Object.entries(files as Readonly<Record<string, Uint8Array | string>>).map(([name, value]) =>
        typeof value === 'string' ? { name, path: value } : { name, data: value },
      );
  if (list.length === 0) return noFiles;
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
