import type { TaskFileV1 } from '../transport/transport-v1.js';
import type { ConsoleLine, TaskTiming } from '../wire/envelope.js';

/**
 * Where a task is in its life: waiting in the master (`queued`), handed to the transport
 * (`dispatched`), started on a worker, when the transport says so (`running`), or settled.
 */
export type TaskStatus = 'queued' | 'dispatched' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A submitted task, as `submit` returns it (PyMW's task object). */
export interface TaskHandle<Output = unknown> {
  readonly id: string;
  readonly taskName: string;
  /** The task's key: given to `submit`, made by `map` from the input's position, or absent. */
  readonly key: string | undefined;
  readonly status: TaskStatus;
  /**
   * The task's output, or a rejection with the typed error: `TaskFailedError` (the task threw;
   * its error rebuilt), `TaskCancelledError`, `TaskTimedOutError`, `WorkerCrashedError` (after
   * the retries ran out), `EnvelopeTooLargeError`... Reading it claims the task: `results()`
   * without arguments no longer yields it.
   */
  readonly result: Promise<Output>;
  /** Cancels the task: dropped if queued, aborted if running. Does nothing once settled. */
  cancel(): void;
}

/** A settled task, as `results()` yields it (PyMW's `get_result()`). */
export type SettledTask<Output = unknown> =
  | {
      readonly status: 'completed';
      readonly handle: TaskHandle<Output>;
      readonly id: string;
      readonly taskName: string;
      readonly output: Output;
      readonly console: readonly ConsoleLine[];
      readonly timing: TaskTiming;
    }
  | {
      readonly status: 'failed' | 'cancelled';
      readonly handle: TaskHandle<Output>;
      readonly id: string;
      readonly taskName: string;
      readonly error: Error;
    };

/** What `submit` accepts beside the task and its input. */
export interface SubmitOptions {
  /** Cancels the task when aborted. */
  readonly signal?: AbortSignal;
  /**
   * Fails the task with `TaskTimedOutError` if it has not settled this long after the master
   * handed it to the transport (any length: timers longer than Node's 24.8-day limit re-arm).
   */
  readonly timeoutMs?: number;
  /** How many times a retryable failure (a crashed worker, a lost host) is run again (default: the master's, 2). */
  readonly retries?: number;
  /** Named data files the task reads with `context.file(name)` (PyMW's data_files). */
  readonly files?: readonly TaskFileV1[] | Readonly<Record<string, Uint8Array | string>>;
  /**
   * Names the work, so that it is never done twice. A key already open in this master gives
   * back the same handle; on a durable transport (BOINC) a key the batch already holds is
   * attached to, never submitted again: a master started again with the same batch and the
   * same keys continues where the last one stopped. Without a key, a durable master keys each
   * task by its submission order (`submit-1`, `submit-2`, ...). The same key with another task
   * or another input is a `TaskKeyConflictError`.
   */
  readonly key?: string;
  /**
   * When to give up on the task, as a time (a `Date` or epoch milliseconds), like `timeoutMs`
   * but absolute: it travels with the task to the transport (BOINC's `delay_bound`) and
   * survives a restart of the master.
   */
  readonly deadline?: Date | number;
  /** Transport-specific hints (for BOINC: `rsc_fpops_est`, `delay_bound`, ...). */
  readonly hints?: Readonly<Record<string, unknown>>;
}

/** What a `schedule` hook sees of each queued task (a frozen view). */
export interface QueuedTask {
  readonly id: string;
  readonly taskName: string;
  readonly key: string | undefined;
  readonly input: unknown;
  readonly attempt: number;
  readonly submittedAt: number;
}
