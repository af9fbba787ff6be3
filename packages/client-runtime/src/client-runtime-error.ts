import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/** The stable codes of `ClientRuntimeError`. */
export const clientRuntimeErrorCodes = [
  /** `init_data.xml` is missing, unreadable or not well-formed. */
  'TSMW_BOINC_INIT_DATA_INVALID',
  /** `init_data.xml` is larger than the runtime reads (`maxInitDataBytes`). */
  'TSMW_BOINC_INIT_DATA_TOO_LARGE',
  /** A logical name resolved to a path outside the BOINC data directory. */
  'TSMW_BOINC_SLOT_PATH_ESCAPE',
  /** `boinc_mmap_file` is missing, unreadable or too small. */
  'TSMW_BOINC_CHANNEL_UNAVAILABLE',
  /** An exit file was asked for with a missing or malformed field. */
  'TSMW_BOINC_EXIT_FILE_INVALID',
  /** A file the runtime was to write exists and is not a regular file (a device, a directory, a pipe). */
  'TSMW_BOINC_NOT_A_REGULAR_FILE',
] as const;

export type ClientRuntimeErrorCode = (typeof clientRuntimeErrorCodes)[number];

const codes: ReadonlySet<string> = new Set(clientRuntimeErrorCodes);

/**
 * The errors of the BOINC-facing layer of the client runtime: a `TsmwError` with one of the
 * stable `TSMW_BOINC_*` codes above. `ClientRuntimeError.isInstance` works across duplicate
 * copies of the package (and of core).
 */
export class ClientRuntimeError extends TsmwError {
  declare readonly code: ClientRuntimeErrorCode;

  constructor(code: ClientRuntimeErrorCode, message: string, options: TsmwErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ClientRuntimeError';
  }

  static override isInstance(value: unknown): value is ClientRuntimeError {
    return TsmwError.isInstance(value) && codes.has(value.code);
  }
}
