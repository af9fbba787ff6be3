const marker = Symbol.for('tsmw.client-runtime.error');

export type ClientRuntimeErrorCode =
  /** `init_data.xml` is missing, unreadable or not well-formed. */
  | 'TSMW_BOINC_INIT_DATA_INVALID'
  /** A logical name resolved to a path outside the BOINC data directory. */
  | 'TSMW_BOINC_SLOT_PATH_ESCAPE'
  /** `boinc_mmap_file` is missing or too small (the app version declares no `api_version`?). */
  | 'TSMW_BOINC_CHANNEL_UNAVAILABLE'
  /** An exit file was asked for with a missing or malformed field. */
  | 'TSMW_BOINC_EXIT_FILE_INVALID';

/**
 * The errors of the BOINC-facing layer of the client runtime. `code` is stable;
 * `ClientRuntimeError.isInstance` works across duplicate copies of the package.
 */
export class ClientRuntimeError extends Error {
  readonly [marker] = true;
  readonly code: ClientRuntimeErrorCode;

  constructor(code: ClientRuntimeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientRuntimeError';
    this.code = code;
  }

  static isInstance(value: unknown): value is ClientRuntimeError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
