import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** A task did not settle within its `timeoutMs`; it was cancelled at the transport. */
export class TaskTimedOutError extends TsmwError {
  static readonly code = 'TSMW_TASK_TIMED_OUT';
  readonly taskId: string;
  readonly timeoutMs: number;

  constructor(taskId: string, timeoutMs: number, options: TsmwErrorOptions = {}) {
    super(TaskTimedOutError.code, `Task ${taskId} timed out after ${timeoutMs} ms`, options);
    this.name = 'TaskTimedOutError';
    this.taskId = taskId;
    this.timeoutMs = timeoutMs;
  }

  static override isInstance(value: unknown): value is TaskTimedOutError {
    return hasErrorCode(value, TaskTimedOutError.code);
  }
}
