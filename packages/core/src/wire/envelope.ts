/**
 * The two envelopes that cross between a master and its workers. On the wire each is one plain
 * MessagePack map whose keys are exactly these property names, so a worker written in Python
 * or C++ can read and write them with any MessagePack library.
 */

/** A task to run: which task, on what input, against which task module. */
export interface TaskEnvelope {
  readonly kind: 'tsmw-task';
  /** The wire-format version (1). */
  readonly version: number;
  /** Unique per task (not per attempt). */
  readonly taskId: string;
  /** The name given to `defineTask`. */
  readonly taskName: string;
  /** The hash of the task module the master submitted against; workers check it. */
  readonly moduleHash: string;
  /** 1 for the first run, then 2, 3, ... for retries. */
  readonly attempt: number;
  /** The task's input. */
  readonly input: unknown;
  /** When the master gives up on the task (epoch milliseconds); workers abort the task's signal then. */
  readonly deadline?: number;
  /** Names of the data files submitted with the task (`context.file(name)`); the bytes travel beside the envelope. */
  readonly fileNames?: readonly string[];
}

/** One line a task wrote to its console, captured by the worker. */
export interface ConsoleLine {
  readonly stream: 'stdout' | 'stderr';
  readonly text: string;
}

/** An error as data: what a task threw, rebuilt on the master. */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  readonly code?: string | number;
  readonly stack?: string;
  readonly cause?: ErrorData;
  /** The task said running it again may succeed. */
  readonly retryable?: boolean;
}

/** How long the task ran on the worker. */
export interface TaskTiming {
  /** When the worker started the task (epoch milliseconds). */
  readonly startedAt: number;
  readonly wallMs: number;
  /** CPU time of the worker thread or process while the task ran (user + system). */
  readonly cpuMs: number;
}

/** Where the task ran, when the worker says (BOINC hosts do). */
export interface HostInfo {
  readonly hostname?: string;
  readonly platform?: string;
  readonly arch?: string;
  readonly runtime?: string;
}

interface ResultEnvelopeBase {
  readonly kind: 'tsmw-result';
  readonly version: number;
  readonly taskId: string;
  readonly attempt: number;
  readonly timing: TaskTiming;
  readonly console?: readonly ConsoleLine[];
  readonly host?: HostInfo;
}

/** A task that returned. */
export interface OkResultEnvelope extends ResultEnvelopeBase {
  readonly ok: true;
  readonly output: unknown;
}

/** A task that threw: its error as data. */
export interface ErrorResultEnvelope extends ResultEnvelopeBase {
  readonly ok: false;
  readonly error: ErrorData;
}

/** What a worker sends back for one task attempt. */
export type ResultEnvelope = OkResultEnvelope | ErrorResultEnvelope;
