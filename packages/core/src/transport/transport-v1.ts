import type { TsmwError } from '../errors/tsmw-error.js';
import type { TransportCapabilitiesV1 } from './capabilities.js';

/**
 * The contract between the tsmw master and a transport, version 1.
 *
 * A transport moves opaque bytes: encoded task envelopes out, encoded result envelopes back.
 * It never decodes them (core owns the wire format). Only the master calls the `do*` methods,
 * in this order: `doStart` once, then `doSubmit` / `doCancel` / `doAcknowledge` any number of
 * times while one `doReceive` iteration runs, then `doClose` once.
 *
 * Published versions never change; a new version is added beside this one.
 * See docs/writing-a-transport.md.
 */
export interface TransportV1 {
  readonly specificationVersion: 'v1';
  /** A stable id, such as `tsmw.local` or `tsmw.boinc`. */
  readonly transportId: string;
  readonly capabilities: TransportCapabilitiesV1;

  /** Prepares to run tasks of the given module (starts workers, opens a store, checks a project). */
  doStart(options: TransportStartOptionsV1): Promise<TransportStartResultV1>;

  /**
   * Takes a batch of tasks. Resolves once the transport has accepted them (queued, staged,
   * durably recorded); a transport that is full may wait before resolving, which holds the
   * master back (backpressure). Rejects only if none of the batch was accepted.
   *
   * Durable transports: a task whose `key` the batch already holds creates no new work. With
   * the same `inputHash` the submitted task id stands for the stored task: its result (stored,
   * or still to come) is delivered as a `task-result` for that id. With another `inputHash`
   * (or another task name) the task ends in `task-lost` with a `TaskKeyConflictError`.
   * (The master gives keyed tasks deterministic ids, so the id is normally the stored one.)
   */
  doSubmit(tasks: readonly SubmittedTaskV1[]): Promise<void>;

  /** Cancels tasks: drop them if queued, abort them if running. Unknown ids are ignored. */
  doCancel(taskIds: readonly string[]): Promise<void>;

  /**
   * The events of the transport, in batches, until `doClose`. Called once. Every submitted
   * task ends in exactly one `task-result` or `task-lost` event (unless it was cancelled, in
   * which case an event may or may not come; the master ignores it).
   */
  doReceive(): AsyncIterable<readonly TransportEventV1[]>;

  /**
   * Durable transports only: the master has handed these tasks' results to the user (a `result`
   * read, a task yielded by `results()` or `map`). They are no longer `recovered` by the next
   * master and not re-delivered unasked; the batch still keeps each key with its result, so a
   * later submission of the same key gets the stored result instead of new work. Results not
   * acknowledged are re-delivered to the next master of the batch. The master never
   * acknowledges on a forced close, a time-out or a failed `doReceive`.
   */
  doAcknowledge?(taskIds: readonly string[]): Promise<void>;

  /**
   * Stops. `force: false` waits for running tasks; `force: true` stops them now. After it
   * resolves the `doReceive` iteration has ended and no thread, process or timer is left.
   */
  doClose(options: { readonly force: boolean }): Promise<void>;
}

/** Where the task module is, so that workers can load it. */
export interface TaskModuleReferenceV1 {
  /** A `file:` URL (or another URL the transport understands) of the task module. */
  readonly url: string;
  /**
   * `hashTaskModule` of the module file the master loaded. Envelopes carry it, unless the
   * transport names the artifact it will run instead (`TransportStartResultV1.taskModuleHash`).
   */
  readonly hash: string;
  /** The task names the master found in the module. */
  readonly taskNames: readonly string[];
}

export interface TransportStartOptionsV1 {
  readonly taskModule: TaskModuleReferenceV1;
  /** The cap on one envelope the master will use (the smaller of its own and the transport's). */
  readonly maxEnvelopeBytes: number;
  /**
   * The name of the master's work (`createMaster({ batch })`): letters, digits, `_`, `.`, `-`,
   * at most 64, starting with a letter or digit. A durable transport keeps each batch apart (two
   * masters with different batches never see each other's tasks) and gives a master started
   * again with the same batch what the batch holds. Always set for durable transports.
   */
  readonly batch?: string;
}

export interface TransportStartResultV1 {
  /**
   * Durable transports: the tasks of the batch that an earlier master submitted and whose
   * results have not been acknowledged (still running, or with a result waiting). Their results
   * arrive through `doReceive` like any other, those already in right after start.
   */
  readonly recovered?: readonly RecoveredTaskV1[];
  /**
   * A transport that ships the task module as an artifact of its own (a bundle with its imports)
   * names that artifact's `hashTaskModule` here; the master then puts it in every envelope, and
   * workers check it against the code they run. Transports whose workers load the master's
   * module file leave it out.
   */
  readonly taskModuleHash?: string;
}

/** A task the transport remembers from an earlier master process. */
export interface RecoveredTaskV1 {
  readonly taskId: string;
  readonly taskName: string;
  readonly attempt: number;
  /** When it was submitted (epoch milliseconds). */
  readonly submittedAt: number;
  /** The task's key (durable runs key every task). */
  readonly key?: string;
  /** The `inputHash` it was submitted with. */
  readonly inputHash?: string;
  /** When the master gives up on it (epoch milliseconds), if it has a deadline. */
  readonly deadline?: number;
}

/** A data file sent with a task: bytes in memory, or a file the transport may read or link. */
export type TaskFileV1 =
  | { readonly name: string; readonly data: Uint8Array }
  | { readonly name: string; readonly path: string };

/** One task as the master hands it over. */
export interface SubmittedTaskV1 {
  readonly taskId: string;
  readonly taskName: string;
  readonly attempt: number;
  /** The encoded task envelope: opaque bytes. */
  readonly envelope: Uint8Array;
  /** Data files for `context.file(name)`; empty for most tasks. */
  readonly files: readonly TaskFileV1[];
  /**
   * When the master gives up on the task (epoch milliseconds), if it has a timeout or a
   * deadline; the envelope carries the same value. A batch transport turns it into its own
   * bound (BOINC's `delay_bound`) and keeps it across a restart.
   */
  readonly deadline?: number;
  /**
   * The task's key: given to `submit`, or made by `map` from the input's position. Every task
   * of a master on a durable transport has one; a durable transport never creates work twice
   * for one key of a batch.
   */
  readonly key?: string;
  /**
   * Durable transports: a hash of the task name, input and data file names (sha256, hex), so
   * that a key submitted again with another input is told apart (`TaskKeyConflictError`).
   */
  readonly inputHash?: string;
  /** Transport-specific hints given at submission (for BOINC: `rsc_fpops_est`, `delay_bound`...). */
  readonly hints?: Readonly<Record<string, unknown>>;
}

/** What a transport reports. */
export type TransportEventV1 =
  /** A task attempt finished (returned or threw): its encoded result envelope. */
  | { readonly type: 'task-result'; readonly taskId: string; readonly bytes: Uint8Array }
  /** A task attempt could not finish for a reason outside the task (worker crash, lost host). */
  | { readonly type: 'task-lost'; readonly taskId: string; readonly error: TsmwError }
  /** A task reports progress, a fraction from 0 to 1. */
  | { readonly type: 'task-progress'; readonly taskId: string; readonly fraction: number }
  /** A task started running on a worker (optional: a `task-result` also says the task started). */
  | { readonly type: 'task-started'; readonly taskId: string };

/** Any version of the transport contract this copy of tsmw accepts. */
export type Transport = TransportV1;
