/**
 * The life of a task in the master, as one table. Every change of a task's state goes through
 * `nextTaskState`, and every count the master keeps (queued, in flight, settled) follows from
 * the transitions, in `TaskStateCounts`: nowhere else is a counter changed.
 *
 * ```
 *             dispatch            start
 *   queued ───────────> dispatched ─────> running
 *     ^ │                  │  │             │ │
 *     │ │     retry        │  │  complete   │ │
 *     │ └──────────────────┘  └────────┬────┘ │
 *     │  cancel / close          completed    │ fail, time-out, close, transport-end
 *     v                                       v
 *  cancelled                               failed
 * ```
 *
 * A task recovered from a durable transport starts as `dispatched`: it is at the transport.
 */

/** Where a task is. `dispatched`: handed to the transport; `running`: the transport said it started. */
export type TaskState = 'queued' | 'dispatched' | 'running' | 'completed' | 'failed' | 'cancelled';

/** What can happen to a task. */
export type TaskEvent =
  /** The master hands it to the transport. */
  | 'dispatch'
  /** The transport reports that it started (`task-started`). */
  | 'start'
  /** A result that is a success arrived. */
  | 'complete'
  /** A retryable failure with attempts left: back to the queue for the next attempt. */
  | 'retry'
  /** A final failure: the task threw, was lost for good, its envelope could not be made. */
  | 'fail'
  /** Its `timeoutMs` or deadline passed. */
  | 'time-out'
  /** Cancelled by its handle, its signal, or a `map` that ended early. */
  | 'cancel'
  /** A forced close found it open. */
  | 'close'
  /** The transport's event stream ended or failed while it was open. */
  | 'transport-end';

export const taskStates: readonly TaskState[] = ['queued', 'dispatched', 'running', 'completed', 'failed', 'cancelled'];
export const taskEvents: readonly TaskEvent[] = ['dispatch', 'start', 'complete', 'retry', 'fail', 'time-out', 'cancel', 'close', 'transport-end'];

/** Settled states: nothing moves a task out of them. */
export function isSettledState(state: TaskState): state is 'completed' | 'failed' | 'cancelled' {
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}

const open = {
  queued: {
    dispatch: 'dispatched',
    complete: 'completed', // a late result of an earlier attempt, while the retry waits
    fail: 'failed',
    cancel: 'cancelled',
    close: 'cancelled',
    'transport-end': 'failed',
  },
  dispatched: {
    start: 'running',
    complete: 'completed',
    retry: 'queued',
    fail: 'failed',
    'time-out': 'failed',
    cancel: 'cancelled',
    close: 'failed', // only durable transports keep dispatched tasks at a forced close (they go on; the next master recovers them); others cancel first
    'transport-end': 'failed',
  },
  running: {
    complete: 'completed',
    retry: 'queued',
    fail: 'failed',
    'time-out': 'failed',
    cancel: 'cancelled',
    close: 'failed',
    'transport-end': 'failed',
  },
} as const satisfies Record<'queued' | 'dispatched' | 'running', Partial<Record<TaskEvent, TaskState>>>;

/**
 * The state a task moves to on an event, or `undefined` when the event does not apply (a
 * second result for a settled task, `start` for a queued one...): the master then ignores it.
 */
export function nextTaskState(state: TaskState, event: TaskEvent): TaskState | undefined {
  if (isSettledState(state)) return undefined;
  return (open[state] as Partial<Record<TaskEvent, TaskState>>)[event];
}

/** How many tasks are in each state: the only counters of the master, moved by transitions. */
export class TaskStateCounts {
  queued = 0;
  dispatched = 0;
  running = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;

  /** Counts a task entering the master in `state` (`queued`, or `dispatched` when recovered). */
  enter(state: TaskState): void {
    this[state] += 1;
  }

  move(from: TaskState, to: TaskState): void {
    this[from] -= 1;
    this[to] += 1;
  }

  /** Tasks at the transport and not settled. */
  get inFlight(): number {
    return this.dispatched + this.running;
  }

  /** Tasks not settled. */
  get open(): number {
    return this.queued + this.dispatched + this.running;
  }
}
