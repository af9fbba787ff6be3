import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * The durable store of a batch cannot be opened, read or written: a file that is not a tsmw
 * store, a store of another app or server, a disk that refuses writes. Nothing is submitted while
 * the store cannot record it.
 */
export class BatchStoreError extends TsmwError {
  static readonly code = 'TSMW_BOINC_BATCH_STORE';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(BatchStoreError.code, message, options);
    this.name = 'BatchStoreError';
  }

  static override isInstance(value: unknown): value is BatchStoreError {
    return TsmwError.isInstance(value) && value.code === BatchStoreError.code;
  }
}
