import type { TaskFileV1 } from '../transport/transport-v1.js';
import type { ConsoleLine, TaskTiming } from '../wire/envelope.js';
import type { QueuedTask, SettledTask, SubmitOptions, TaskHandle, TaskStatus } from './task-handle.js';
import type { TaskState } from './task-states.js';

/** How a task ended, as the master keeps it. */
export type Settlement =
  | { readonly ok: true; readonly output: unknown; readonly console: readonly ConsoleLine[]; readonly timing: TaskTiming }
  | {
      readonly ok: false;
      readonly error: Error;
      /**
       * The transport said so (a result, a final loss): on a durable transport such an end is
       * acknowledged once handed to the user. A time-out, a close or a failed stream is the
       * master's own view, never acknowledged: the next master sees the task again.
       */
      readonly fromTransport: boolean;
    };

/** Who holds a task: `submit` (the user's handle), `map` (internal to a map), `recovered` (an earlier master's, not yet attached). */
export type TaskOwner = 'submit' | 'map' | 'recovered';

/** What a record needs from its master. */
export interface TaskRecordHost {
  cancelRecord(record: TaskRecord): void;
  claimRecord(record: TaskRecord): void;
}

const emptyOptions: SubmitOptions = Object.freeze({});
const noFiles: readonly TaskFileV1[] = Object.freeze([]);

/**
 * The master's record of one task; it is also the handle users hold. Its state is changed only
 * by the task table (`task-table.ts`), through the transitions of `task-states.ts`. Its result
 * promise is made only when `result` is read, so an unread failure is never an unhandled
 * rejection.
 * @internal
 */
export class TaskRecord implements TaskHandle<unknown> {
  state: TaskState = 'queued';
  attempt = 1;
  /** The encoded envelope of the current attempt, while the task is queued or in flight. */
  envelope: Uint8Array | undefined;
  settlement: Settlement | undefined;
  /** When the master gives up on the task (epoch ms), once known. */
  deadline: number | undefined;
  /** Its place in the deadline heap, or -1. */
  heapIndex = -1;
  owner: TaskOwner = 'submit';
  /** Taken by someone (its `result` read, a `map`, `results()`): `results()` no longer yields it. */
  claimed = false;
  /** Its outcome is in the user's hands (or will be once settled): a durable transport may stop keeping it. */
  handedOver = false;
  /** The input is known (false for a recovered task until a submission attaches to it). */
  hasInput = false;
  /** Told to the durable transport as handed over. */
  acknowledged = false;
  /** In the table's queue of settled, unclaimed tasks for `results()`. */
  awaitingCollection = false;
  private queuedView: QueuedTask | undefined;
  /** Settles the promise `result` made, if it was read before the task settled. */
  private resolveResult: ((settlement: Settlement) => void) | undefined;
  private settleListener: ((record: TaskRecord) => void) | undefined;
  private moreSettleListeners: Array<(record: TaskRecord) => void> | undefined;
  private promise: Promise<unknown> | undefined;

  constructor(
    private readonly host: TaskRecordHost,
    readonly id: string,
    readonly taskName: string,
    public input: unknown,
    readonly submittedAt: number,
    readonly options: SubmitOptions = emptyOptions,
    public files: readonly TaskFileV1[] = noFiles,
    public retries = 0,
    readonly key: string | undefined = undefined,
    public inputHash: string | undefined = undefined,
  ) {}

  get status(): TaskStatus {
    return this.state;
  }

  get settled(): boolean {
    return this.settlement !== undefined;
  }

  get result(): Promise<unknown> {
    if (!this.claimed) this.host.claimRecord(this);
    return (this.promise ??= this.makeResult());
  }

  /**
   * The output, or the error thrown from a promise reaction: V8's async stack traces then show,
   * in a failure's stack, the user's code that awaits the result, not the master's internals.
   * (A plain promise and one reaction: cheaper than an async function per task.)
   */
  private makeResult(): Promise<unknown> {
    const settlement = this.settlement;
    if (settlement?.ok === true) return Promise.resolve(settlement.output);
    const settled = settlement === undefined ? new Promise<Settlement>((resolve) => (this.resolveResult = resolve)) : Promise.resolve(settlement);
    return settled.then(outputOrThrow);
  }

  cancel(): void {
    this.host.cancelRecord(this);
  }

  /** Calls `listener` once when the task settles (at once if it already has). */
  whenSettled(listener: (record: TaskRecord) => void): void {
    if (this.settlement !== undefined) listener(this);
    else if (this.settleListener === undefined) this.settleListener = listener;
    else (this.moreSettleListeners ??= []).push(listener);
  }

  /** Records the end; called by the task table only, after the state changed. */
  settle(settlement: Settlement): void {
    this.settlement = settlement;
    this.input = undefined;
    this.envelope = undefined;
    this.queuedView = undefined;
    const resolveResult = this.resolveResult;
    this.resolveResult = undefined;
    resolveResult?.(settlement);
    const listener = this.settleListener;
    const more = this.moreSettleListeners;
    this.settleListener = undefined;
    this.moreSettleListeners = undefined;
    listener?.(this);
    if (more !== undefined) for (const other of more) other(this);
  }

  /** What a `schedule` hook sees: a frozen view, made once per attempt. */
  view(): QueuedTask {
    const view = this.queuedView;
    if (view !== undefined && view.attempt === this.attempt) return view;
    return (this.queuedView = Object.freeze({
      id: this.id,
      taskName: this.taskName,
      key: this.key,
      input: this.input,
      attempt: this.attempt,
      submittedAt: this.submittedAt,
    }));
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
    return { status: this.state === 'cancelled' ? 'cancelled' : 'failed', handle: this, id: this.id, taskName: this.taskName, error: settlement.error };
  }
}

/** A settlement's output, or its error thrown with the stack of the code that awaits it. */
function outputOrThrow(settlement: Settlement): unknown {
  if (settlement.ok) return settlement.output;
  throw atAwaitSite(settlement.error, outputOrThrow);
}

/**
 * Gives an error the stack of the code that awaits it now (the frames above `below` are left
 * out). The message, name, cause and fields stay; only the master-internal frames go.
 */
export function atAwaitSite<E extends Error>(error: E, below: Function): E {
  if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(error, below);
  return error;
}
