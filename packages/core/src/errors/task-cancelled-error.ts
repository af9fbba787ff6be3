import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** A task was cancelled (by `handle.cancel()`, its `signal`, `map` giving up, or `close()`). */
export class TaskCancelledError extends TsmwError {
  static readonly code = 'TSMW_TASK_CANCELLED';
  readonly taskId: string;

  constructor(taskId: string, reason = 'cancelled', options: TsmwErrorOptions = {}) {
    super(TaskCancelledError.code, `Task ${taskId} was ${reason}`, options);
    this.name = 'TaskCancelledError';
    this.taskId = taskId;
  }

  static override isInstance(value: unknown): value is TaskCancelledError {
    return hasErrorCode(value, TaskCancelledError.code);
  }
}
