import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** The task module loaded by a worker has no task of the name an envelope asks for. */
export class TaskNotFoundError extends TsmwError {
  static readonly code = 'TSMW_TASK_NOT_FOUND';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(TaskNotFoundError.code, message, options);
    this.name = 'TaskNotFoundError';
  }

  static override isInstance(value: unknown): value is TaskNotFoundError {
    return hasErrorCode(value, TaskNotFoundError.code);
  }
}
