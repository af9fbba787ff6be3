import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/**
 * A task key was submitted again with another task or another input than the task the batch
 * already holds under that key. Keys name work: a key never stands for two different tasks.
 */
export class TaskKeyConflictError extends TsmwError {
  static readonly code = 'TSMW_TASK_KEY_CONFLICT';

  constructor(
    readonly key: string,
    message: string,
    options: TsmwErrorOptions = {},
  ) {
    super(TaskKeyConflictError.code, message, options);
    this.name = 'TaskKeyConflictError';
  }

  static override isInstance(value: unknown): value is TaskKeyConflictError {
    return hasErrorCode(value, TaskKeyConflictError.code);
  }
}
