import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** A worker's task module is not the one the master submitted against (its hash differs). */
export class TaskModuleMismatchError extends TsmwError {
  static readonly code = 'TSMW_TASK_MODULE_MISMATCH';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(TaskModuleMismatchError.code, message, options);
    this.name = 'TaskModuleMismatchError';
  }

  static override isInstance(value: unknown): value is TaskModuleMismatchError {
    return hasErrorCode(value, TaskModuleMismatchError.code);
  }
}
