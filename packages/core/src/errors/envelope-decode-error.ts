import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** Bytes that are not a well-formed tsmw envelope (bad MessagePack, a wrong kind, a missing or ill-typed field). */
export class EnvelopeDecodeError extends TsmwError {
  static readonly code = 'TSMW_ENVELOPE_DECODE';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(EnvelopeDecodeError.code, message, options);
    this.name = 'EnvelopeDecodeError';
  }

  static override isInstance(value: unknown): value is EnvelopeDecodeError {
    return hasErrorCode(value, EnvelopeDecodeError.code);
  }
}
