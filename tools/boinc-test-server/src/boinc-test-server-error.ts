const marker = Symbol.for('tsmw.boinc-test-server.error');

export type BoincTestServerErrorCode =
  | 'TSMW_BOINC_TEST_SERVER_NOT_STARTED'
  | 'TSMW_BOINC_TEST_SERVER_INVALID_JOB'
  | 'TSMW_BOINC_TEST_SERVER_TIMEOUT'
  | 'TSMW_BOINC_TEST_SERVER_CLOSED'
  | 'TSMW_BOINC_CLIENT_NOT_FOUND'
  | 'TSMW_BOINC_CLIENT_FAILED'
  | 'TSMW_BOINC_TEST_XML_INVALID'
  | 'TSMW_BOINC_FAKE_PROJECT_INVALID'
  | 'TSMW_BOINC_FAKE_PROJECT_COMMAND_FAILED';

/** Every error the BOINC test server and the client harness raise; `code` is stable. */
export class BoincTestServerError extends Error {
  readonly [marker] = true;
  readonly code: BoincTestServerErrorCode;

  constructor(code: BoincTestServerErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BoincTestServerError';
    this.code = code;
  }

  static isInstance(value: unknown): value is BoincTestServerError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}
