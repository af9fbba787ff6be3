import type { TaskFileV1 } from '../transport/transport-v1.js';
import type { ConsoleLine, TaskTiming } from '../wire/envelope.js';

/** Where a task is in its life. */
export type TaskStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A submitted task, as `submit` returns it (PyMW's task object). */
export interface TaskHandle<Output = unknown> {
  readonly id: string;
  readonly taskName: string;
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
  /** Fails the task with `TaskTimedOutError` if it has not settled this long after the transport took it. */
  readonly timeoutMs?: number;
  /** How many times a retryable failure (a crashed worker, a lost host) is run again (default: the master's, 2). */
  readonly retries?: number;
  /** Named data files the task reads with `context.file(name)` (PyMW's data_files). */
  readonly files?: readonly TaskFileV1[] | Readonly<Record<string, Uint8Array | string>>;
  /** An idempotency key for durable transports: a task with a key already known is not submitted twice. */
  readonly key?: string;
  /** Transport-specific hints (for BOINC: `rsc_fpops_est`, `delay_bound`, ...). */
  readonly hints?: Readonly<Record<string, unknown>>;
}

/** What a `schedule` hook sees of each queued task. */
export interface QueuedTask {
  readonly id: string;
  readonly taskName: string;
  readonly input: unknown;
  readonly attempt: number;
  readonly submittedAt: number;
}

type Settlement =
  | { readonly ok: true; readonly output: unknown; readonly console: readonly ConsoleLine[]; readonly timing: TaskTiming }
  | { readonly ok: false; readonly error: Error };

/**
 * The master's record of one task; it is also the handle users hold. Its promise is made only
 * when `result` is read, so an unread failure never becomes an unhandled rejection.
 * @internal
 */
export class TaskRecord implements TaskHandle<unknown>, QueuedTask {
  status: TaskStatus = 'queued';
  attempt = 1;
  envelope: Uint8Array | undefined;
  settlement: Settlement | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Submitted through `submit` (not internally by `map`): may be yielded by `results()`. */
  isPublic = false;
  /** `result` was read, or `results()` yielded it. */
  claimed = false;
  /** Called once when the task settles (used by map, mapReduce and results); most tasks have one at most. */
  private settleListener: ((record: TaskRecord) => void) | undefined;
  private moreSettleListeners: Array<(record: TaskRecord) => void> | undefined;
  private promise: Promise<unknown> | undefined;
  private resolvePromise: ((value: unknown) => void) | undefined;
  private rejectPromise: ((error: Error) => void) | undefined;

  constructor(
    readonly id: string,
    readonly taskName: string,
    public input: unknown,
    readonly submittedAt: number,
    readonly options: SubmitOptions,
    readonly files: readonly TaskFileV1[],
    readonly retries: number,
    readonly cancelTask: (record: TaskRecord) => void,
    readonly onClaim: (record: TaskRecord) => void,
  ) {}

  get result(): Promise<unknown> {
    if (!this.claimed) {
      this.claimed = true;
      this.onClaim(this);
    }
    if (this.promise === undefined) {
      const settlement = this.settlement;
      if (settlement !== undefined) {
        this.promise = settlement.ok ? Promise.resolve(settlement.output) : Promise.reject(settlement.error);
      } else {
        this.promise = new Promise<unknown>((resolve, reject) => {
          this.resolvePromise = resolve;
          this.rejectPromise = reject;
        });
      }
    }
    return this.promise;
  }

  cancel(): void {
    this.cancelTask(this);
  }

  /** Calls `listener` once when the task settles (at once if it already has). */
  whenSettled(listener: (record: TaskRecord) => void): void {
    if (this.settlement !== undefined) listener(this);
    else if (this.settleListener === undefined) this.settleListener = listener;
    else (this.moreSettleListeners ??= []).push(listener);
  }

  get settled(): boolean {
    return this.settlement !== undefined;
  }

  /** Settles once; later calls are ignored. */
  settle(settlement: Settlement, status: 'completed' | 'failed' | 'cancelled'): boolean {
    if (this.settlement !== undefined) return false;
    this.settlement = settlement;
    this.status = status;
    this.input = undefined;
    this.envelope = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (settlement.ok) this.resolvePromise?.(settlement.output);
    else this.rejectPromise?.(settlement.error);
    this.resolvePromise = undefined;
    this.rejectPromise = undefined;
    const listener = this.settleListener;
    const more = this.moreSettleListeners;
    this.settleListener = undefined;
    this.moreSettleListeners = undefined;
    listener?.(this);
    if (more !== undefined) for (const other of more) other(this);
    return true;
  }

  toSettledTask(): SettledTask<unknown> {
    const settlement = this.settlement;
    if (settlement === undefined) throw new Error('toSettledTask called on an open task');
    if (settlement.ok) {
      return {
        status: 'completed',
        handle: this,
        id: this.id,
        taskName: this.taskName,
        output: settlement.output,
        console: settlement.console,
        timing: settlement.timing,
      };
    }
    return { status: this.status === 'cancelled' ? 'cancelled' : 'failed', handle: this, id: this.id, taskName: this.taskName, error: settlement.error };
  }
}
