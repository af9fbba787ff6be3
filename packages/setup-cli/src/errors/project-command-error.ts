import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * A project command (`bin/xadd`, `bin/update_versions`, `bin/stop`, `bin/start`) failed. The message names the command, its exit status and the last line it printed; the step stays pending, so the next run does it again.
 */
export class ProjectCommandError extends TsmwError {
  static readonly code = 'TSMW_SETUP_PROJECT_COMMAND';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(ProjectCommandError.code, message, options);
    this.name = 'ProjectCommandError';
  }

  static override isInstance(value: unknown): value is ProjectCommandError {
    return TsmwError.isInstance(value) && value.code === ProjectCommandError.code;
  }
}
