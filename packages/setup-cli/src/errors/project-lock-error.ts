import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * Another `tsmw-setup` run holds the project's lock (`tsmw/setup/lock`): two runs on one project never interleave. The message names the holder's process and host.
 */
export class ProjectLockError extends TsmwError {
  static readonly code = 'TSMW_SETUP_LOCKED';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(ProjectLockError.code, message, options);
    this.name = 'ProjectLockError';
  }

  static override isInstance(value: unknown): value is ProjectLockError {
    return TsmwError.isInstance(value) && value.code === ProjectLockError.code;
  }
}
