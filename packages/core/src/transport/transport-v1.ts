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
   * Durable transports only: the master has taken these results, so the transport may forget
   * them. A durable transport keeps re-delivering results it has not been told of.
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
  /** The hash the master put in every envelope (sha256 of the module file, hex). */
  readonly hash: string;
  /** The task names the master found in the module. */
  readonly taskNames: readonly string[];
}

export interface TransportStartOptionsV1 {
  readonly taskModule: TaskModuleReferenceV1;
  /** The cap on one envelope the master will use (the smaller of its own and the transport's). */
  readonly maxEnvelopeBytes: number;
}

export interface TransportStartResultV1 {
  /**
   * Durable transports: tasks a previous master submitted that have not been acknowledged.
   * Their results (when they come) arrive through `doReceive` like any other.
   */
  readonly recovered?: readonly RecoveredTaskV1[];
}

/** A task the transport remembers from an earlier master process. */
export interface RecoveredTaskV1 {
  readonly taskId: string;
  readonly taskName: string;
  readonly attempt: number;
  /** When it was submitted (epoch milliseconds). */
  readonly submittedAt: number;
  /** The `key` given at submission, if any. */
  readonly key?: string;
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
  /** When the master gives up on the task (epoch milliseconds), if it has a timeout. */
  readonly deadline?: number;
  /** The caller's idempotency key, for durable transports. */
  readonly key?: string;
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
  /** A task started running on a worker (optional; interactive transports may skip it). */
  | { readonly type: 'task-started'; readonly taskId: string };

/** Any version of the transport contract this copy of tsmw accepts. */
export type Transport = TransportV1;
