import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * BOINC gave up on a task's job: its workunit ended with an error mask (every host failed, no
 * host replied by the deadline, results did not validate, the job was cancelled on the server)
 * or its output never reached the master. The message says what happened in words and ends
 * with the host's `stderr_out` when there is one.
 */
export class BoincJobFailedError extends TsmwError {
  static readonly code = 'TSMW_BOINC_JOB_FAILED';

  constructor(
    message: string,
    readonly jobName: string,
    /** BOINC's workunit error mask (`WU_ERROR_*` bits), 0 when the failure was not BOINC's. */
    readonly errorMask: number,
    /** The failing host's `stderr_out`, when the server gave it. */
    readonly stderr: string | undefined,
    options: TsmwErrorOptions = {},
  ) {
    super(BoincJobFailedError.code, message, options);
    this.name = 'BoincJobFailedError';
  }

  static override isInstance(value: unknown): value is BoincJobFailedError {
    return TsmwError.isInstance(value) && value.code === BoincJobFailedError.code;
  }
}
