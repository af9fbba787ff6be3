import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * The command line asks for something tsmw-setup cannot do: an unknown platform, a tasks file that does not exist, a project directory that is not one. `tsmw-setup` exits 2 with the message.
 */
export class SetupUsageError extends TsmwError {
  static readonly code = 'TSMW_SETUP_USAGE';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(SetupUsageError.code, message, options);
    this.name = 'SetupUsageError';
  }

  static override isInstance(value: unknown): value is SetupUsageError {
    return TsmwError.isInstance(value) && value.code === SetupUsageError.code;
  }
}
