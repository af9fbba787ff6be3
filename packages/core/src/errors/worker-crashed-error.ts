import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/**
 * The worker running a task died (exited, threw outside the task, ran out of memory) or was
 * stopped. Retryable: the master runs the task again if its `retries` allow.
 */
export class WorkerCrashedError extends TsmwError {
  static readonly code = 'TSMW_WORKER_CRASHED';
  readonly taskId: string;
  readonly exitCode: number | undefined;

  constructor(taskId: string, detail: string, options: TsmwErrorOptions & { exitCode?: number } = {}) {
    super(WorkerCrashedError.code, `The worker running task ${taskId} crashed: ${detail}`, {
      ...options,
      retryable: options.retryable ?? true,
    });
    this.name = 'WorkerCrashedError';
    this.taskId = taskId;
    this.exitCode = options.exitCode;
  }

  static override isInstance(value: unknown): value is WorkerCrashedError {
    return hasErrorCode(value, WorkerCrashedError.code);
  }
}
