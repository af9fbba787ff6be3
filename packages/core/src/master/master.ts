import type { TaskDefinition, TaskInput, TaskOutput } from '../task/define-task.js';
import type { Transport } from '../transport/transport-v1.js';
import type { MasterEventListener, MasterEventName } from './events.js';
import type { MasterStats } from './stats.js';
import type { QueuedTask, SettledTask, SubmitOptions, TaskHandle } from './task-handle.js';

/**
 * What `submit` takes after the task: its input (optional when the task takes none) and options.
 * A task whose input type is `void` or `undefined` is submitted as `submit(task)`.
 */
export type SubmitArguments<Task extends TaskDefinition<never, unknown>> = [TaskInput<Task>] extends [void | undefined]
  ? [input?: TaskInput<Task>, options?: SubmitOptions]
  : [input: TaskInput<Task>, options?: SubmitOptions];

/** What `createMaster` takes. */
export interface MasterOptions {
  /** Where tasks run: `createLocalTransport()`, a BOINC transport, `createInMemoryTransport()`... */
  readonly transport: Transport;
  /** The task module: a path (relative to the working directory) or a URL (`new URL('./tasks.js', import.meta.url)`). */
  readonly tasks: string | URL;
  /**
   * The name of this master's work, such as `'pi-2026-11'` (letters, digits, `_`, `.`, `-`; at
   * most 64). Required on durable transports (BOINC): a master started again with the same
   * batch re-attaches to the tasks the batch holds instead of submitting them twice, and two
   * batches on one project never see each other's tasks. Optional elsewhere.
   */
  readonly batch?: string;
  /** The cap on one task envelope with its data files (default 64 MiB, or the transport's, if smaller). */
  readonly maxEnvelopeBytes?: number;
  /** How many tasks may wait in the master's queue before `submit` waits (default 100,000). */
  readonly maxQueued?: number;
  /** How many tasks the transport holds at once (default: what the transport declares). */
  readonly maxInFlight?: number;
  /** Retries of retryable failures, unless `submit` says otherwise (default 2). */
  readonly retries?: number;
  /**
   * Picks which queued task goes to the transport next (PyMW's scheduler_func): given a
   * read-only view of the queue in submission order (retries are dispatched first, without
   * asking), returns an index into it. FIFO when absent. It is called once per task dispatched;
   * picking the first or the last task costs O(1), one in the middle moves those behind it.
   * A hook that throws or returns something that is not an index is reported once (a process
   * warning) and the oldest task goes instead.
   */
  readonly schedule?: (queue: readonly QueuedTask[]) => number;
}

/** Options of `map`, `mapStream` and `mapReduce`. */
export interface MapOptions<Input = unknown> extends Omit<SubmitOptions, 'key' | 'files'> {
  /**
   * How many inputs are submitted and not yet returned, at most. Default: the transport's
   * in-flight limit, at most 65,536; on a batch transport (BOINC), every input.
   */
  readonly concurrency?: number;
  /**
   * The key of each input's task (see `SubmitOptions.key`). By default, on a durable transport,
   * the input's position: `map-<n>-<index>`, where `n` counts this master's `map` calls
   * (0, 1, ...), so the same program run again with the same batch attaches to the same tasks.
   */
  readonly key?: (input: Input, index: number) => string;
  /** Keys `<keyPrefix><index>` instead of `map-<n>-<index>` (also where keys are not needed). */
  readonly keyPrefix?: string;
}

/** Options of `mapReduce`. */
export interface MapReduceOptions<Input = unknown> extends MapOptions<Input> {
  /**
   * Into how many parts the map outputs are split, each reduced by one reduce task; the partial
   * results are then reduced by one more (PyMW's num_parts_reduce). Default 1.
   */
  readonly reducers?: number;
}

/** What `close` takes. */
export interface CloseOptions {
  /**
   * `false` (default): wait until every task this master submitted has settled (recovered tasks
   * nobody attached to are left at a durable transport). `true`: stop now; queued tasks are
   * cancelled; tasks at the transport reject with `TaskCancelledError`, or on a durable
   * transport with `MasterClosedError`: they go on, and the next master of the batch gets them.
   */
  readonly force?: boolean;
}

/** The master: submits tasks to a transport and collects their results. */
export interface Master extends AsyncDisposable {
  /** The transport's id, such as `tsmw.local`. */
  readonly transportId: string;
  /** The hash of the task module every envelope carries (`hashTaskModule` of the code the workers run). */
  readonly moduleHash: string;
  /** The batch name given to `createMaster`, if any. */
  readonly batch: string | undefined;
  /**
   * Durable transports: the tasks an earlier master of this batch submitted whose results were
   * never handed over, and that no submission of this master has attached to (by key) yet.
   */
  readonly recovered: readonly TaskHandle<unknown>[];

  /**
   * Submits one task. Resolves with its handle once the task is queued (at once, unless
   * `maxQueued` tasks are already waiting). Rejects with `EnvelopeTooLargeError` if the input
   * and files are over the cap, `InvalidArgumentError` for a task not in the task module,
   * `MasterClosedError` after `close`.
   */
  submit<Task extends TaskDefinition<never, unknown>>(
    task: Task,
    ...input: SubmitArguments<Task>
  ): Promise<TaskHandle<TaskOutput<Task>>>;

  /**
   * Yields tasks as they settle, in completion order (PyMW's `get_result()`). Without arguments:
   * every task submitted with `submit` whose `result` was not read, ending when none is left
   * open. With handles: just those (PyMW's `get_result([t1, t2])`).
   */
  results<Output>(handles: readonly TaskHandle<Output>[]): AsyncIterableIterator<SettledTask<Output>>;
  results(): AsyncIterableIterator<SettledTask<unknown>>;

  /**
   * Runs a task over every input and resolves to the outputs in input order. At most
   * `concurrency` inputs are in flight, so inputs may be a long (or endless) iterable.
   * The first failure rejects the whole map and cancels what is still open.
   */
  map<Task extends TaskDefinition<never, unknown>>(
    task: Task,
    inputs: Iterable<TaskInput<Task>> | AsyncIterable<TaskInput<Task>>,
    options?: MapOptions<TaskInput<Task>>,
  ): Promise<TaskOutput<Task>[]>;

  /** Like `map`, but yields the outputs in input order as they become available. */
  mapStream<Task extends TaskDefinition<never, unknown>>(
    task: Task,
    inputs: Iterable<TaskInput<Task>> | AsyncIterable<TaskInput<Task>>,
    options?: MapOptions<TaskInput<Task>>,
  ): AsyncIterableIterator<TaskOutput<Task>>;

  /**
   * PyMW's MapReduce: maps every input with `mapTask`, splits the outputs (in input order) into
   * `reducers` parts, reduces each with `reduceTask`, then reduces the partial results with one
   * more `reduceTask`. `reduceTask` takes an array and must be associative.
   */
  mapReduce<Input, Mapped>(
    mapTask: TaskDefinition<Input, Mapped>,
    reduceTask: TaskDefinition<Awaited<Mapped>[], Mapped>,
    inputs: Iterable<Input> | AsyncIterable<Input>,
    options?: MapReduceOptions<Input>,
  ): Promise<Awaited<Mapped>>;

  /** Counts, per-task timing summaries and throughput. */
  stats(): MasterStats;

  /** Listens to `task-submitted`, `task-started`, `task-progress`, `task-completed`, `task-failed`, `task-retried`, `task-cancelled`; returns an unsubscribe function. */
  on<Name extends MasterEventName>(name: Name, listener: MasterEventListener<Name>): () => void;

  /** Stops the master and its transport. See `CloseOptions`. */
  close(options?: CloseOptions): Promise<void>;

  /**
   * Durable transports: stops this master now and leaves every submitted task running at the
   * transport; run the master again with the same batch to collect the results (open handles
   * reject with `MasterClosedError`). Throws `InvalidArgumentError` on a transport that is not
   * durable, where detaching would lose the tasks.
   */
  detach(): Promise<void>;
}
