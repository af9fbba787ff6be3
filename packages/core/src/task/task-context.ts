/**
 * What a running task sees, beside its input. The same on every transport; what a transport
 * cannot do (checkpoints on the local transport, say) is a safe no-op.
 */
export interface TaskContext {
  /** This task's id (the same across retries). */
  readonly taskId: string;
  /** 1 for the first run, 2 for the first retry, ... */
  readonly attempt: number;
  /**
   * Aborted when the task is cancelled, passes its deadline, or its worker is asked to stop.
   * Long tasks should check `signal.aborted` (or `signal.throwIfAborted()`) now and then.
   */
  readonly signal: AbortSignal;
  /** Reports how far the task has got, a fraction from 0 to 1 (values are clamped). */
  progress(fraction: number): void;
  /**
   * Saves a state from which the task can resume if it is stopped and started again (a BOINC
   * client quitting, a volunteer's machine rebooting). The state is encoded like an input.
   * Resolves once the state is safely written; on transports without checkpoints it does nothing.
   */
  checkpoint(state: unknown): Promise<void>;
  /** The last state saved by `checkpoint` in an earlier run of this task, or `undefined`. */
  restore<State = unknown>(): Promise<State | undefined>;
  /** The bytes of a data file submitted with the task (`submit(..., { files })`). */
  file(name: string): Promise<Uint8Array>;
}
