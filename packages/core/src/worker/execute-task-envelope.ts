import { EnvelopeDecodeError } from '../errors/envelope-decode-error.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { TaskCancelledError } from '../errors/task-cancelled-error.js';
import { TaskModuleMismatchError } from '../errors/task-module-mismatch-error.js';
import { TaskNotFoundError } from '../errors/task-not-found-error.js';
import { TaskTimedOutError } from '../errors/task-timed-out-error.js';
import type { TaskContext } from '../task/task-context.js';
import type { TaskRegistry } from '../task/task-module.js';
import { decodeValue } from '../wire/decode-value.js';
import { encodeValue } from '../wire/encode-value.js';
import type { ErrorResultEnvelope, HostInfo, OkResultEnvelope, ResultEnvelope, TaskEnvelope, TaskTiming } from '../wire/envelope.js';
import { serializeError } from '../wire/error-data.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, WIRE_FORMAT_VERSION } from '../wire/limits.js';
import { encodeResultEnvelope } from '../wire/result-envelope.js';
import { decodeTaskEnvelopeOf } from '../wire/task-envelope.js';
import { beginCapture, ConsoleCollector, endSynchronousCapture, releaseCapture, runInCaptureContext, type ConsoleCaptureMode } from './console-capture.js';
import { CpuMeter, readCpuMilliseconds } from './cpu-clock.js';

/** Where a worker keeps checkpoints: one state (bytes) per task id. */
export interface CheckpointStore {
  save(taskId: string, state: Uint8Array): Promise<void>;
  load(taskId: string): Promise<Uint8Array | undefined>;
}

/** What the transport's worker side gives the executor. */
export interface ExecuteOptions {
  /** Aborted when the transport cancels the task or stops the worker. */
  readonly signal?: AbortSignal;
  /** The hash of the loaded task module; an envelope with another hash is refused. */
  readonly moduleHash?: string;
  /** Called with the task's progress (0..1). */
  readonly onProgress?: (taskId: string, fraction: number) => void;
  /** Checkpoint storage; without it `checkpoint` does nothing and `restore` finds nothing. */
  readonly checkpoints?: CheckpointStore;
  /** Reads a data file submitted with the task. */
  readonly readFile?: (taskId: string, name: string) => Promise<Uint8Array>;
  /** Where the task runs, sent back in the result. */
  readonly host?: HostInfo;
  /** The cap on envelopes and checkpoints (default 64 MiB). */
  readonly maxEnvelopeBytes?: number;
  /**
   * How the task's console output is captured (see docs/architecture.md):
   * - `shared` (default): the thread also runs other code (a master, other tasks): only what
   *   the task itself writes, in its own asynchronous context, is its output;
   * - `exclusive`: the thread runs tasks only, one at a time (cheaper: no AsyncLocalStorage);
   * - `off`: nothing is captured.
   */
  readonly consoleCapture?: ConsoleCaptureMode | 'off';
  /**
   * The CPU time (ms) of the thread or process that runs the task, read at the start and end of
   * every task. Without it, the thread's own CPU clock is used, read about once a millisecond
   * at most (`CpuMeter`): every task's CPU time is measured to within a millisecond.
   */
  readonly cpuClock?: () => number;
}

const neverAborted = new AbortController().signal;
/** The longest delay Node's timers take. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;
/** An exclusive-mode collector that no task is using and none ever wrote to (see `TaskRun.end`). */
let idleCollector: ConsoleCollector | undefined;
/** The thread's own CPU meter, shared by every task the thread runs. */
let threadMeter: CpuMeter | undefined;

/**
 * THE worker-side executor: decodes a task envelope, runs the task from the loaded module,
 * and encodes its result envelope. It catches everything: a task that throws, an unknown task,
 * a wrong module, an output that cannot be encoded all come back as error results. Bytes that
 * are not a task envelope at all come back as an error result with an empty task id.
 */
export async function executeTaskEnvelope(bytes: Uint8Array, registry: TaskRegistry, options: ExecuteOptions = {}): Promise<Uint8Array> {
  return executeTaskEnvelopeNow(bytes, registry, options);
}

/**
 * `executeTaskEnvelope` without a promise per task: the result envelope's bytes at once when the
 * task is synchronous (returns a value or throws), a promise of them only when the task returned
 * a promise. Everything else is as `executeTaskEnvelope` does it. For a worker's loop of tiny
 * tasks, where two awaits per task cost more than the task.
 */
export function executeTaskEnvelopeNow(bytes: Uint8Array, registry: TaskRegistry, options: ExecuteOptions = {}): Uint8Array | Promise<Uint8Array> {
  const maxBytes = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  let envelope: TaskEnvelope;
  try {
    envelope = decodeTaskEnvelopeOf(bytes, maxBytes, options.moduleHash);
  } catch (error) {
    return encodeResult(failedResult('', 1, Date.now(), 0, 0, error, undefined, options.host), maxBytes);
  }
  const result = runTaskEnvelopeNow(envelope, registry, options);
  return result instanceof Promise ? result.then((settled) => encodeResult(settled, maxBytes)) : encodeResult(result, maxBytes);
}

/** Runs a decoded task envelope; never rejects. */
export async function runTaskEnvelope(envelope: TaskEnvelope, registry: TaskRegistry, options: ExecuteOptions = {}): Promise<ResultEnvelope> {
  return runTaskEnvelopeNow(envelope, registry, options);
}

/** `runTaskEnvelope`, settled at once unless the task returned a promise; never throws, never rejects. */
function runTaskEnvelopeNow(envelope: TaskEnvelope, registry: TaskRegistry, options: ExecuteOptions): ResultEnvelope | Promise<ResultEnvelope> {
  const run = new TaskRun(envelope, options);
  if (options.moduleHash !== undefined && envelope.moduleHash !== options.moduleHash) {
    const result = run.failed(
      new TaskModuleMismatchError(`Task ${envelope.taskId} was submitted against task module ${envelope.moduleHash}, but this worker loaded ${options.moduleHash}`),
    );
    run.dispose();
    return result;
  }
  const definition = registry.get(envelope.taskName);
  if (definition === undefined) {
    const result = run.failed(new TaskNotFoundError(`The task module has no task named "${envelope.taskName}" (it has: ${[...registry.keys()].join(', ') || 'none'})`));
    run.dispose();
    return result;
  }
  const mode = options.consoleCapture ?? 'shared';
  let collector: ConsoleCollector | undefined;
  if (mode === 'exclusive') {
    collector = idleCollector ?? new ConsoleCollector();
    idleCollector = undefined;
  } else if (mode === 'shared') collector = new ConsoleCollector();
  run.collector = collector;
  /** The task returned a promise: `settle` ends the run. */
  let settling = false;
  try {
    let output: unknown;
    if (collector === undefined) output = definition.run(envelope.input, run);
    else {
      const previous = beginCapture(collector, mode as ConsoleCaptureMode);
      try {
        output = mode === 'shared' ? runInCaptureContext(collector, () => definition.run(envelope.input, run)) : definition.run(envelope.input, run);
      } finally {
        endSynchronousCapture(previous);
      }
    }
    if (isPromiseLike(output)) {
      const settled = settle(run, output);
      settling = true;
      return settled;
    }
    return run.settled(output);
  } catch (error) {
    return run.settledWithError(error);
  } finally {
    if (!settling) run.end();
  }
}

/** Waits for a task's promise, then ends its run. */
async function settle(run: TaskRun, output: PromiseLike<unknown>): Promise<ResultEnvelope> {
  try {
    return run.settled(await output);
  } catch (error) {
    return run.settledWithError(error);
  } finally {
    run.end();
  }
}

/**
 * One run of a task: its context (what the task sees, as prototype methods: no closures per
 * task) and its timing.
 */
class TaskRun implements TaskContext {
  readonly taskId: string;
  readonly attempt: number;
  readonly signal: AbortSignal;
  collector: ConsoleCollector | undefined;
  private readonly startedAt = Date.now();
  private readonly wallStart = performance.now();
  private readonly meter: CpuMeter;
  private readonly cpuStart: number;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlineController: AbortController | undefined;
  private readonly onExternalAbort: (() => void) | undefined;

  constructor(
    private readonly envelope: TaskEnvelope,
    private readonly options: ExecuteOptions,
  ) {
    this.taskId = envelope.taskId;
    this.attempt = envelope.attempt;
    this.meter = options.cpuClock === undefined ? (threadMeter ??= new CpuMeter(readCpuMilliseconds)) : new CpuMeter(options.cpuClock, true);
    this.cpuStart = this.meter.start(this.wallStart);
    const external = options.signal;
    if (envelope.deadline === undefined) {
      this.signal = external ?? neverAborted;
      return;
    }
    const controller = new AbortController();
    this.deadlineController = controller;
    this.signal = controller.signal;
    const deadline = envelope.deadline;
    const timeoutMs = Math.max(0, deadline - Date.now());
    // Deadlines days or weeks away are kept: the timer is re-armed in steps Node's timers can take.
    const arm = (): void => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) controller.abort(new TaskTimedOutError(envelope.taskId, timeoutMs));
      else this.deadlineTimer = setTimeout(arm, Math.min(remaining, MAX_TIMER_DELAY_MS));
    };
    arm();
    if (external !== undefined) {
      this.onExternalAbort = () => controller.abort(external.reason);
      if (external.aborted) this.onExternalAbort();
      else external.addEventListener('abort', this.onExternalAbort, { once: true });
    }
  }

  /** The result of a task that returned `output` (its signal may have been aborted meanwhile). */
  settled(output: unknown): ResultEnvelope {
    return this.signal.aborted ? this.failed(abortReason(this.envelope, this.signal)) : this.succeeded(output);
  }

  /** The result of a task that threw `error` (or whose promise rejected with it). */
  settledWithError(error: unknown): ResultEnvelope {
    return this.failed(this.signal.aborted && error === this.signal.reason ? abortReason(this.envelope, this.signal) : error);
  }

  /** The task has settled: its console collector receives nothing more, its timers stop. */
  end(): void {
    const collector = this.collector;
    if (collector !== undefined) {
      releaseCapture(collector);
      // In exclusive mode nothing reaches a released collector: one nobody wrote to serves the next task.
      if (this.options.consoleCapture === 'exclusive' && collector.isUnused()) idleCollector = collector;
    }
    this.dispose();
  }

  dispose(): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    if (this.onExternalAbort !== undefined) this.options.signal?.removeEventListener('abort', this.onExternalAbort);
  }

  succeeded(output: unknown): ResultEnvelope {
    const result: { -readonly [Key in keyof OkResultEnvelope]: OkResultEnvelope[Key] } = {
      kind: 'tsmw-result',
      version: WIRE_FORMAT_VERSION,
      taskId: this.taskId,
      attempt: this.attempt,
      ok: true,
      output,
      timing: this.timing(),
    };
    const lines = this.collector?.finish();
    if (lines !== undefined) result.console = lines;
    if (this.options.host !== undefined) result.host = this.options.host;
    return result;
  }

  failed(error: unknown): ResultEnvelope {
    const timing = this.timing();
    return failedResult(this.taskId, this.attempt, timing.startedAt, timing.wallMs, timing.cpuMs, error, this.collector?.finish(), this.options.host);
  }

  private timing(): TaskTiming {
    const now = performance.now();
    const wallMs = now - this.wallStart;
    return { startedAt: this.startedAt, wallMs, cpuMs: this.meter.end(this.cpuStart, wallMs, now) };
  }

  progress(fraction: number): void {
    const onProgress = this.options.onProgress;
    if (onProgress === undefined || typeof fraction !== 'number' || Number.isNaN(fraction)) return;
    onProgress(this.taskId, Math.min(1, Math.max(0, fraction)));
  }

  async checkpoint(state: unknown): Promise<void> {
    const checkpoints = this.options.checkpoints;
    if (checkpoints === undefined) return;
    await checkpoints.save(this.taskId, encodeValue(state, this.options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, 'checkpoint', 'state'));
  }

  async restore<State>(): Promise<State | undefined> {
    const checkpoints = this.options.checkpoints;
    if (checkpoints === undefined) return undefined;
    const bytes = await checkpoints.load(this.taskId);
    if (bytes === undefined) return undefined;
    try {
      return decodeValue(bytes, this.options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, 'checkpoint') as State;
    } catch (error) {
      if (EnvelopeDecodeError.isInstance(error)) return undefined; // a torn or foreign checkpoint: start afresh
      throw error;
    }
  }

  async file(name: string): Promise<Uint8Array> {
    const fileNames = this.envelope.fileNames ?? [];
    if (!fileNames.includes(name)) {
      throw new InvalidArgumentError(`Task ${this.taskId} has no data file named "${name}" (it has: ${fileNames.join(', ') || 'none'})`);
    }
    const readFile = this.options.readFile;
    if (readFile === undefined) throw new InvalidArgumentError(`This worker cannot read data files (task ${this.taskId})`);
    return readFile(this.taskId, name);
  }
}

/** Encodes a result; an output that cannot be encoded (too large, unencodable) becomes an error result. */
function encodeResult(result: ResultEnvelope, maxBytes: number): Uint8Array {
  try {
    return encodeResultEnvelope(result, { maxBytes });
  } catch (error) {
    const { timing } = result;
    const failed = failedResult(result.taskId, result.attempt, timing.startedAt, timing.wallMs, timing.cpuMs, error, undefined, result.host);
    try {
      return encodeResultEnvelope(failed, { maxBytes });
    } catch {
      // Under a small cap even the error may not fit with its stack (a deep one when the task ran synchronously).
      const { stack: _stack, ...withoutStack } = serializeError(error);
      return encodeResultEnvelope({ ...(failed as ErrorResultEnvelope), error: withoutStack }, { maxBytes });
    }
  }
}

function failedResult(
  taskId: string,
  attempt: number,
  startedAt: number,
  wallMs: number,
  cpuMs: number,
  error: unknown,
  lines: ResultEnvelope['console'],
  host: HostInfo | undefined,
): ResultEnvelope {
  return {
    kind: 'tsmw-result',
    version: WIRE_FORMAT_VERSION,
    taskId,
    attempt,
    ok: false,
    error: serializeError(error),
    timing: { startedAt, wallMs, cpuMs },
    ...(lines !== undefined && lines.length > 0 ? { console: lines } : {}),
    ...(host === undefined ? {} : { host }),
  };
}

function abortReason(envelope: TaskEnvelope, signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new TaskCancelledError(envelope.taskId);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
