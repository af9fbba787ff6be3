import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** The master was closed: no more submissions, and tasks still open were cancelled. */
export class MasterClosedError extends TsmwError {
  static readonly code = 'TSMW_MASTER_CLOSED';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(MasterClosedError.code, message, options);
    this.name = 'MasterClosedError';
  }

  static override isInstance(value: unknown): value is MasterClosedError {
    return hasErrorCode(value, MasterClosedError.code);
  }
}
