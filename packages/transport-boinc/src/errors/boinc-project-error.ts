import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * A BOINC project directory is not as tsmw needs it: a missing or unreadable file, a manifest
 * that does not parse, no app version for the task module the master runs. The message says
 * what to run to fix it.
 */
export class BoincProjectError extends TsmwError {
  static readonly code = 'TSMW_BOINC_PROJECT';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(BoincProjectError.code, message, options);
    this.name = 'BoincProjectError';
  }

  static override isInstance(value: unknown): value is BoincProjectError {
    return TsmwError.isInstance(value) && value.code === BoincProjectError.code;
  }
}
