import type { HostInfo } from '@tsmw/core';

/** The first argument that makes the runtime bundle run as the task process. */
export const taskProcessFlag = '--tsmw-task-process';

/** Runtime -> task process: what to run (sent once). */
export interface RunTaskMessage {
  readonly type: 'run';
  /** The task envelope, already decoded once by the runtime (it is valid). */
  readonly envelope: Uint8Array;
  /** The task module to import (an `.mjs` file). */
  readonly taskModulePath: string;
  /** sha256 hex of the task module's bytes. */
  readonly moduleHash: string;
  readonly maxEnvelopeBytes: number;
  /** Where checkpoints are kept. */
  readonly checkpointPath: string;
  /** Data files are found by name in this directory (a slot: logical names)... */
  readonly slotDir: string;
  /** ...and may not resolve outside this one. */
  readonly boincDir: string;
  readonly host?: HostInfo;
  /** Send `cpu` messages (where the runtime cannot read the task process's CPU time itself). */
  readonly reportCpu: boolean;
}

/** Task process -> runtime. */
export type TaskProcessMessage =
  /** The task module is loaded and the task is about to start. */
  | { readonly type: 'started' }
  | { readonly type: 'progress'; readonly fraction: number }
  /** A checkpoint was written (atomically) and may be reported to the client. */
  | { readonly type: 'checkpointed' }
  /** CPU seconds of the task process so far. */
  | { readonly type: 'cpu'; readonly seconds: number }
  /** The result envelope (an error result when the task threw). */
  | { readonly type: 'result'; readonly bytes: Uint8Array }
  /** The task could not be run at all (e.g. its module does not load): a one-line reason. */
  | { readonly type: 'failed'; readonly reason: string };
