import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * A task module could not be bundled into the one self-contained file that volunteers run: a
 * syntax error, an import that cannot be resolved, a native addon, a module with no task.
 */
export class TaskModuleBundleError extends TsmwError {
  static readonly code = 'TSMW_TASK_MODULE_BUNDLE';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(TaskModuleBundleError.code, message, options);
    this.name = 'TaskModuleBundleError';
  }

  static override isInstance(value: unknown): value is TaskModuleBundleError {
    return TsmwError.isInstance(value) && value.code === TaskModuleBundleError.code;
  }
}
