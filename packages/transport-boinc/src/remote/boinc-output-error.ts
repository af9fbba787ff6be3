import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

export interface BoincOutputErrorOptions extends TsmwErrorOptions {
  /** The result (BOINC's instance id) whose output was asked for. */
  readonly resultId: number;
  /** The output file's index in the result. */
  readonly fileIndex: number;
}

/**
 * An output file could not be fetched as BOINC described it: the server sent an error page or a
 * refusal instead of the file, or a file whose size differs from what BOINC reported. Retryable
 * (a download cut short is worth another try); the message says what arrived instead.
 */
export class BoincOutputError extends TsmwError {
  static readonly code = 'TSMW_BOINC_OUTPUT';
  readonly resultId: number;
  readonly fileIndex: number;

  constructor(message: string, options: BoincOutputErrorOptions) {
    super(BoincOutputError.code, message, { retryable: true, ...options });
    this.name = 'BoincOutputError';
    this.resultId = options.resultId;
    this.fileIndex = options.fileIndex;
  }

  static override isInstance(value: unknown): value is BoincOutputError {
    return TsmwError.isInstance(value) && value.code === BoincOutputError.code;
  }
}
