import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** A transport could not do what the master asked (start, submit, cancel, receive, close). */
export class TransportError extends TsmwError {
  static readonly code = 'TSMW_TRANSPORT';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(TransportError.code, message, options);
    this.name = 'TransportError';
  }

  static override isInstance(value: unknown): value is TransportError {
    return hasErrorCode(value, TransportError.code);
  }
}
