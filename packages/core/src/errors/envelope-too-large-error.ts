import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** An envelope (or a checkpoint, or a file) over the size cap, refused before any decoding or sending. */
export class EnvelopeTooLargeError extends TsmwError {
  static readonly code = 'TSMW_ENVELOPE_TOO_LARGE';
  readonly byteLength: number;
  readonly maxBytes: number;

  constructor(byteLength: number, maxBytes: number, what = 'envelope', options: TsmwErrorOptions = {}) {
    super(
      EnvelopeTooLargeError.code,
      `The ${what} is ${byteLength} bytes, over the limit of ${maxBytes} bytes`,
      options,
    );
    this.name = 'EnvelopeTooLargeError';
    this.byteLength = byteLength;
    this.maxBytes = maxBytes;
  }

  static override isInstance(value: unknown): value is EnvelopeTooLargeError {
    return hasErrorCode(value, EnvelopeTooLargeError.code);
  }
}
