import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/** Why an exchange with the BOINC server failed before a reply could be read. */
export type BoincRequestErrorReason =
  /** No answer within `timeoutMs`. */
  | 'timeout'
  /** The connection failed (refused, reset, name not found, cut mid-reply). */
  | 'network'
  /** An HTTP status other than 200 (a 500, a 503 from a proxy, a redirect to the login page). */
  | 'http-status'
  /** The caller's `signal` aborted the call. */
  | 'aborted'
  /** A call that creates something (`submit_batch`, `create_batch`) failed after the server may have acted on it. */
  | 'outcome-unknown';

export interface BoincRequestErrorOptions extends TsmwErrorOptions {
  readonly reason: BoincRequestErrorReason;
  /** The operation, for example `query_batch` or `get_output2 file`. */
  readonly operation: string;
  /** The HTTP status, when there was one. */
  readonly status?: number;
  /** How many attempts were made (1 + retries used). */
  readonly attempts: number;
  /**
   * True when the server may have carried the request out although no reply was read: a batch
   * may exist, jobs may have been created. Look before doing it again (query the batch by name).
   */
  readonly outcomeUnknown?: boolean;
}

/**
 * An exchange with a BOINC server failed at the HTTP level: a time-out, a network failure, a status
 * other than 200, or an abort. Retryable when trying again may help; `outcomeUnknown` says when the
 * server may have done the work anyway. The message never holds the authenticator.
 */
export class BoincRequestError extends TsmwError {
  static readonly code = 'TSMW_BOINC_REQUEST';
  readonly reason: BoincRequestErrorReason;
  readonly operation: string;
  readonly status: number | undefined;
  readonly attempts: number;
  readonly outcomeUnknown: boolean;

  constructor(message: string, options: BoincRequestErrorOptions) {
    super(BoincRequestError.code, message, options);
    this.name = 'BoincRequestError';
    this.reason = options.reason;
    this.operation = options.operation;
    this.status = options.status;
    this.attempts = options.attempts;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }

  static override isInstance(value: unknown): value is BoincRequestError {
    return TsmwError.isInstance(value) && value.code === BoincRequestError.code;
  }
}
