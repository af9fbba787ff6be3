import { EnvelopeDecodeError } from '../errors/envelope-decode-error.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { TaskCancelledError } from '../errors/task-cancelled-error.js';
import { TaskModuleMismatchError } from '../errors/task-module-mismatch-error.js';
import { TaskNotFoundError } from '../errors/task-not-found-error.js';
import { TaskTimedOutError } from '../errors/task-timed-out-error.js';
import type { TaskContext } from '../task/task-context.js';
import type { TaskRegistry } from '../task/task-module.js';
import { decodeValue, encodeValue } from '../wire/codec.js';
import type { HostInfo, OkResultEnvelope, ResultEnvelope, TaskEnvelope, TaskTiming } from '../wire/envelope.js';
import { serializeError } from '../wire/error-data.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, WIRE_FORMAT_VERSION } from '../wire/limits.js';
import { encodeResultEnvelope } from '../wire/result-envelope.js';
import { decodeTaskEnvelope } from '../wire/task-envelope.js';
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
/** The thread's own CPU meter, shared by every task the thread runs. */
let threadMeter: CpuMeter | undefined;

/**
 * THE worker-side executor: decodes a task envelope, runs the task from the loaded module,
 * and encodes its result envelope. It catches everything: a task that throws, an unknown task,
 * a wrong module, an output that cannot be encoded all come back as error results. Bytes that
 * are not a task envelope at all come back as an error result with an empty task id.
 */
export async function executeTaskEnvelope(bytes: Uint8Array, registry: TaskRegistry, options: ExecuteOptions = {}): Promise<Uint8Array> {
  const maxBytes = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  let envelope: TaskEnvelope;
  try {
    envelope = decodeTaskEnvelope(bytes, { maxBytes });
  } catch (error) {
    return encodeResult(failedResult('', 1, Date.now(), 0, 0, error, undefined, options.host), maxBytes);
  }
  return encodeResult(await runTaskEnvelope(envelope, registry, options), maxBytes);
}

/** Runs a decoded task envelope; never rejects. */
export async function runTaskEnvelope(envelope: TaskEnvelope, registry: TaskRegistry, options: ExecuteOptions = {}): Promise<ResultEnvelope> {
  const run = new TaskRun(envelope, options);
  if (options.moduleHash !== undefined && envelope.moduleHash !== options.moduleHash) {
    return run.failed(
      new TaskModuleMismatchError(`Task ${envelope.taskId} was submitted against task module ${envelope.moduleHash}, but this worker loaded ${options.moduleHash}`),
    );
  }
  const definition = registry.get(envelope.taskName);
  if (definition === undefined) {
    return run.failed(new TaskNotFoundError(`The task module has no task named "${envelope.taskName}" (it has: ${[...registry.keys()].join(', ') || 'none'})`));
  }
  const mode = options.consoleCapture ?? 'shared';
  const collector = mode === 'off' ? undefined : new ConsoleCollector();
  run.collector = collector;
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
    if (isPromiseLike(output)) output = await output;
    if (run.signal.aborted) return run.failed(abortReason(envelope, run.signal));
    return run.succeeded(output);
  } catch (error) {
    return run.failed(run.signal.aborted && error === run.signal.reason ? abortReason(envelope, run.signal) : error);
  } finally {
    if (collector !== undefined) releaseCapture(collector);
    run.dispose();
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
    await checkpoints.save(this.taskId, encodeValue(state, this.options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, 'checkpoint'));
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
    return encodeResultEnvelope(failed, { maxBytes });
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
