import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/** BOINC's error numbers that mean "try again later" (`lib/error_numbers.h`, `html/inc/util_basic.inc`). */
const transientErrorNumbers: ReadonlySet<number> = new Set([
  -138, // ERR_DB_CANT_CONNECT: "Can't access database"
  -183, // ERR_PROJECT_DOWN: "Project is temporarily offline"
]);

export interface BoincRpcErrorOptions extends TsmwErrorOptions {
  /** The operation that failed, for example `submit_batch`. */
  readonly operation: string;
  /** BOINC's `<error_num>` (most remote-submission errors are -1). */
  readonly errorNumber: number;
  /** BOINC's `<error_msg>`, as the server wrote it (with any authenticator removed). */
  readonly boincMessage: string;
}

/**
 * The server answered with BOINC's `<error>` element: `<error_num>` and `<error_msg>`. Carries both;
 * retryable only for the numbers BOINC uses for a database that cannot be reached or a project that
 * is down for maintenance.
 */
export class BoincRpcError extends TsmwError {
  static readonly code = 'TSMW_BOINC_RPC';
  readonly operation: string;
  readonly errorNumber: number;
  readonly boincMessage: string;

  constructor(message: string, options: BoincRpcErrorOptions) {
    super(BoincRpcError.code, message, {
      ...options,
      retryable: options.retryable ?? transientErrorNumbers.has(options.errorNumber),
    });
    this.name = 'BoincRpcError';
    this.operation = options.operation;
    this.errorNumber = options.errorNumber;
    this.boincMessage = options.boincMessage;
  }

  static override isInstance(value: unknown): value is BoincRpcError {
    return TsmwError.isInstance(value) && value.code === BoincRpcError.code;
  }
}
