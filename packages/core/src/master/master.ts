import type { TaskDefinition, TaskInput, TaskOutput } from '../task/define-task.js';
import type { Transport } from '../transport/transport-v1.js';
import type { MasterEventListener, MasterEventName } from './events.js';
import type { MasterStats } from './stats.js';
import type { QueuedTask, SettledTask, SubmitOptions, TaskHandle } from './task-handle.js';

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
   * Picks which queued task goes to the transport next (PyMW's scheduler_func): given the queue
   * in submission order, returns an index into it. FIFO when absent. It is called once per task
   * dispatched, with the whole queue: keep it cheap, or the queue short.
   */
  readonly schedule?: (queue: readonly QueuedTask[]) => number;
}

/** Options of `map`, `mapStream` and `mapReduce`. */
export interface MapOptions extends Omit<SubmitOptions, 'key' | 'files'> {
  /** How many inputs are submitted and not yet returned, at most (default: the transport's in-flight limit, at most 65,536). */
  readonly concurrency?: number;
}

/** Options of `mapReduce`. */
export interface MapReduceOptions extends MapOptions {
  /**
   * Into how many parts the map outputs are split, each reduced by one reduce task; the partial
   * results are then reduced by one more (PyMW's num_parts_reduce). Default 1.
   */
  readonly reducers?: number;
}

/** What `close` takes. */
export interface CloseOptions {
  /**
   * `false` (default): wait until every submitted task has settled. `true`: stop now; open
   * tasks reject with `TaskCancelledError` (with `MasterClosedError` on durable transports,
   * whose tasks go on and are recovered by the next master).
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
  /** Durable transports: the tasks an earlier master submitted and nobody has collected yet. */
  readonly recovered: readonly TaskHandle<unknown>[];

  /**
   * Submits one task. Resolves with its handle once the task is queued (at once, unless
   * `maxQueued` tasks are already waiting). Rejects with `EnvelopeTooLargeError` if the input
   * and files are over the cap, `InvalidArgumentError` for a task not in the task module,
   * `MasterClosedError` after `close`.
   */
  submit<Task extends TaskDefinition<never, unknown>>(
    task: Task,
    input: TaskInput<Task>,
    options?: SubmitOptions,
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
    options?: MapOptions,
  ): Promise<TaskOutput<Task>[]>;

  /** Like `map`, but yields the outputs in input order as they become available. */
  mapStream<Task extends TaskDefinition<never, unknown>>(
    task: Task,
    inputs: Iterable<TaskInput<Task>> | AsyncIterable<TaskInput<Task>>,
    options?: MapOptions,
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
    options?: MapReduceOptions,
  ): Promise<Awaited<Mapped>>;

  /** Counts, per-task timing summaries and throughput. */
  stats(): MasterStats;

  /** Listens to `task-submitted`, `task-started`, `task-progress`, `task-completed`, `task-failed`, `task-retried`, `task-cancelled`; returns an unsubscribe function. */
  on<Name extends MasterEventName>(name: Name, listener: MasterEventListener<Name>): () => void;

  /** Stops the master and its transport. See `CloseOptions`. */
  close(options?: CloseOptions): Promise<void>;
}
