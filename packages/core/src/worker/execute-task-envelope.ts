import { EnvelopeDecodeError } from '../errors/envelope-decode-error.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { TaskCancelledError } from '../errors/task-cancelled-error.js';
import { TaskModuleMismatchError } from '../errors/task-module-mismatch-error.js';
import { TaskNotFoundError } from '../errors/task-not-found-error.js';
import { TaskTimedOutError } from '../errors/task-timed-out-error.js';
import type { TaskContext } from '../task/task-context.js';
import type { TaskRegistry } from '../task/task-module.js';
import { decodeValue, encodeValue } from '../wire/codec.js';
import type { HostInfo, ResultEnvelope, TaskEnvelope } from '../wire/envelope.js';
import { serializeError } from '../wire/error-data.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, WIRE_FORMAT_VERSION } from '../wire/limits.js';
import { encodeResultEnvelope } from '../wire/result-envelope.js';
import { decodeTaskEnvelope } from '../wire/task-envelope.js';
import { ConsoleCollector, runWithConsoleCapture } from './console-capture.js';
import { readCpuMilliseconds } from './cpu-clock.js';

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
  /** Capture the task's console output (default true). */
  readonly captureConsole?: boolean;
}

const neverAborted = new AbortController().signal;

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
  const startedAt = Date.now();
  const wallStart = performance.now();
  // CPU time: a task that returns synchronously ran on this thread the whole time, so its CPU
  // time is its wall time (and reading the CPU clock, a system call, would cost more than a tiny
  // task). Only once a task goes asynchronous is the CPU clock read, at its first await.
  let cpuStart: number | undefined;
  let syncWallMs = 0;
  const collector = options.captureConsole === false ? undefined : new ConsoleCollector();
  const finish = (outcome: { ok: true; output: unknown } | { ok: false; error: unknown }): ResultEnvelope => {
    const wallMs = performance.now() - wallStart;
    const cpuMs = cpuStart === undefined ? wallMs : syncWallMs + Math.max(0, readCpuMilliseconds() - cpuStart);
    const lines = collector?.finish();
    if (outcome.ok) {
      return {
        kind: 'tsmw-result',
        version: WIRE_FORMAT_VERSION,
        taskId: envelope.taskId,
        attempt: envelope.attempt,
        ok: true,
        output: outcome.output,
        timing: { startedAt, wallMs, cpuMs },
        ...(lines !== undefined && lines.length > 0 ? { console: lines } : {}),
        ...(options.host === undefined ? {} : { host: options.host }),
      };
    }
    return failedResult(envelope.taskId, envelope.attempt, startedAt, wallMs, cpuMs, outcome.error, lines, options.host);
  };

  if (options.moduleHash !== undefined && envelope.moduleHash !== options.moduleHash) {
    return finish({
      ok: false,
      error: new TaskModuleMismatchError(
        `Task ${envelope.taskId} was submitted against task module ${envelope.moduleHash}, but this worker loaded ${options.moduleHash}`,
      ),
    });
  }
  const definition = registry.get(envelope.taskName);
  if (definition === undefined) {
    return finish({
      ok: false,
      error: new TaskNotFoundError(`The task module has no task named "${envelope.taskName}" (it has: ${[...registry.keys()].join(', ') || 'none'})`),
    });
  }

  const { signal, dispose } = taskSignal(envelope, options.signal);
  const context = createTaskContext(envelope, signal, options);
  let releaseCapture: (() => void) | undefined;
  try {
    let output: unknown;
    if (collector === undefined) output = definition.run(envelope.input, context);
    else {
      const captured = runWithConsoleCapture(collector, () => definition.run(envelope.input, context));
      output = captured.value;
      releaseCapture = captured.release;
    }
    if (isPromiseLike(output)) {
      syncWallMs = performance.now() - wallStart;
      cpuStart = readCpuMilliseconds();
      output = await output;
    }
    if (signal.aborted) return finish({ ok: false, error: abortReason(envelope, signal) });
    return finish({ ok: true, output });
  } catch (error) {
    return finish({ ok: false, error: signal.aborted && error === signal.reason ? abortReason(envelope, signal) : error });
  } finally {
    releaseCapture?.();
    dispose();
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

function taskSignal(envelope: TaskEnvelope, external: AbortSignal | undefined): { signal: AbortSignal; dispose: () => void } {
  if (envelope.deadline === undefined) return { signal: external ?? neverAborted, dispose: () => {} };
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new TaskTimedOutError(envelope.taskId, Math.max(0, envelope.deadline! - Date.now()))),
    Math.max(0, envelope.deadline - Date.now()),
  );
  const onAbort = (): void => controller.abort(external?.reason);
  external?.addEventListener('abort', onAbort, { once: true });
  if (external?.aborted) onAbort();
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer);
      external?.removeEventListener('abort', onAbort);
    },
  };
}

function abortReason(envelope: TaskEnvelope, signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new TaskCancelledError(envelope.taskId);
}

function createTaskContext(envelope: TaskEnvelope, signal: AbortSignal, options: ExecuteOptions): TaskContext {
  const maxBytes = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  const fileNames = envelope.fileNames ?? [];
  return {
    taskId: envelope.taskId,
    attempt: envelope.attempt,
    signal,
    progress(fraction: number): void {
      if (options.onProgress === undefined || typeof fraction !== 'number' || Number.isNaN(fraction)) return;
      options.onProgress(envelope.taskId, Math.min(1, Math.max(0, fraction)));
    },
    async checkpoint(state: unknown): Promise<void> {
      if (options.checkpoints === undefined) return;
      await options.checkpoints.save(envelope.taskId, encodeValue(state, maxBytes, 'checkpoint'));
    },
    async restore<State>(): Promise<State | undefined> {
      if (options.checkpoints === undefined) return undefined;
      const bytes = await options.checkpoints.load(envelope.taskId);
      if (bytes === undefined) return undefined;
      try {
        return decodeValue(bytes, maxBytes, 'checkpoint') as State;
      } catch (error) {
        if (error instanceof EnvelopeDecodeError) return undefined; // a torn or foreign checkpoint: start afresh
        throw error;
      }
    },
    async file(name: string): Promise<Uint8Array> {
      if (!fileNames.includes(name)) {
        throw new InvalidArgumentError(`Task ${envelope.taskId} has no data file named "${name}" (it has: ${fileNames.join(', ') || 'none'})`);
      }
      if (options.readFile === undefined) throw new InvalidArgumentError(`This worker cannot read data files (task ${envelope.taskId})`);
      return options.readFile(envelope.taskId, name);
    },
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
