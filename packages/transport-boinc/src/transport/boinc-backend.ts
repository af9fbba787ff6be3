import type { TaskFileV1, TaskModuleReferenceV1 } from '@tsmw/core';
import type { BoincJobOptions } from '../job-options.js';
import type { BatchStore, ChunkRecord, StoredFailure } from '../store/batch-store.js';

/** What a backend is told at start. */
export interface BackendStartContext {
  readonly batch: string;
  readonly taskModule: TaskModuleReferenceV1;
  readonly maxEnvelopeBytes: number;
}

export interface BackendStarted {
  /** `hashTaskModule` of the bundle volunteers run: what every envelope must name. */
  readonly taskModuleHash: string;
  /** The app version that carries it. */
  readonly appVersionNum: number;
}

/** One job about to be created. */
export interface PlannedJob {
  readonly jobName: string;
  readonly envelope: Uint8Array;
  readonly files: readonly TaskFileV1[];
}

/** Jobs that share their options (and data-file names): one chunk each, up to the chunk size. */
export interface JobGroup {
  readonly options: BoincJobOptions;
  /** The open names of the group's data files, in order (every job of the group has these). */
  readonly dataFileNames: readonly string[];
}

/** What became of a chunk's jobs. */
export interface ChunkOutcome {
  /** Jobs that exist at BOINC now (created by this run, or found created by an earlier one). */
  readonly created: readonly string[];
  /** Jobs that do not exist and will not: each with why. */
  readonly failed: ReadonlyMap<string, StoredFailure>;
  /** A line for the chunk's record (what happened). */
  readonly detail: string;
}

/**
 * One way into a BOINC project: on the server host (files, `create_work`, the assimilator's
 * inbox) or remote (the web RPCs). The transport owns the store, the batch's tasks, the inbox
 * and the events; a backend stages, creates, resolves and aborts jobs.
 */
export interface BoincBackend {
  readonly mode: 'on-server' | 'remote';
  /** The project home or URL: a batch belongs to one. */
  readonly location: string;
  /** Whether `abort` reaches BOINC (a cancelled task's job is aborted on the server). */
  readonly abortsJobs: boolean;
  /** The batch's directory: its store, inbox and results live there. */
  batchDirectory(batch: string): string;
  /** Checks the project (app, deployed version carrying the task module) and gets ready. */
  start(context: BackendStartContext, store: BatchStore): Promise<BackendStarted>;
  /**
   * Makes the jobs' inputs available to BOINC (stages files, uploads them) and returns the plan
   * of the chunk: what `create` needs, as JSON, recorded in the store BEFORE `create` runs.
   */
  stage(jobs: readonly PlannedJob[], group: JobGroup): Promise<unknown>;
  /** Creates the recorded chunk at BOINC. Never throws: every job ends created or failed. */
  create(chunkId: number, plan: unknown, jobNames: readonly string[]): Promise<ChunkOutcome>;
  /** Settles a chunk whose outcome a crash left unknown: never a job twice, never one lost. */
  resolve(chunk: ChunkRecord): Promise<ChunkOutcome>;
  /** Aborts jobs at BOINC; resolves with the names it aborted (or found gone). */
  abort(jobNames: readonly string[]): Promise<readonly string[]>;
  /** Starts bringing results into the batch's inbox (remote polling); the on-server assimilator needs nothing. */
  startCollecting?(nudge: () => void): void;
  close(): Promise<void>;
}
