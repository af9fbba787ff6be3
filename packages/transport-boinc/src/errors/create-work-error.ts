import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * BOINC's `bin/create_work` refused a chunk of jobs: a missing template or input file, an app the
 * project does not know, a database error. The message carries the exit status and what
 * `create_work` printed; the tasks of the chunk end with this error.
 */
export class CreateWorkError extends TsmwError {
  static readonly code = 'TSMW_BOINC_CREATE_WORK';

  constructor(
    message: string,
    readonly exitStatus: number | null,
    readonly output: string,
    options: TsmwErrorOptions = {},
  ) {
    super(CreateWorkError.code, message, options);
    this.name = 'CreateWorkError';
  }

  static override isInstance(value: unknown): value is CreateWorkError {
    return TsmwError.isInstance(value) && value.code === CreateWorkError.code;
  }
}
