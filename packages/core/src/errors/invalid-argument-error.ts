import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** A caller passed a value tsmw cannot use (an unknown task, a negative timeout, a bad option). */
export class InvalidArgumentError extends TsmwError {
  static readonly code = 'TSMW_INVALID_ARGUMENT';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(InvalidArgumentError.code, message, options);
    this.name = 'InvalidArgumentError';
  }

  static override isInstance(value: unknown): value is InvalidArgumentError {
    return hasErrorCode(value, InvalidArgumentError.code);
  }
}
