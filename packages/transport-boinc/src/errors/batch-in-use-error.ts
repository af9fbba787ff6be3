import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * Another master holds the batch: a live process (on this host) opened its store and has not
 * closed it. Two masters reading one batch would deliver each result twice; stop the other one,
 * or give this master another batch name.
 */
export class BatchInUseError extends TsmwError {
  static readonly code = 'TSMW_BOINC_BATCH_IN_USE';

  constructor(
    readonly batch: string,
    readonly holder: { readonly pid: number; readonly host: string },
    message: string,
    options: TsmwErrorOptions = {},
  ) {
    super(BatchInUseError.code, message, options);
    this.name = 'BatchInUseError';
  }

  static override isInstance(value: unknown): value is BatchInUseError {
    return TsmwError.isInstance(value) && value.code === BatchInUseError.code;
  }
}
