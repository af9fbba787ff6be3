import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/** Why a reply was not the XML tsmw expected. */
export type BoincXmlErrorReason =
  /** Nothing, or only whitespace and PHP diagnostics. */
  | 'empty'
  /** An HTML page (a proxy's or the web server's error page, a login page) instead of XML. */
  | 'html'
  /** The operation's element starts but never ends: the reply was cut off. */
  | 'truncated'
  /** PHP stopped with a fatal error inside the reply. */
  | 'php-error'
  /** Not well-formed XML, even after the known PHP noise is removed. */
  | 'malformed'
  /** Well-formed, but not the element or the fields the operation answers with. */
  | 'unexpected'
  /** Larger than the cap, refused before parsing. */
  | 'too-large';

export interface BoincXmlErrorOptions extends TsmwErrorOptions {
  readonly reason: BoincXmlErrorReason;
  /** The operation (the reply's expected root element), for example `query_batch`. */
  readonly operation: string;
}

/**
 * A BOINC reply that is not the XML its operation answers with: cut off, an HTML page, malformed
 * beyond the PHP warnings BOINC servers are known to print, or missing a field. The message says
 * which, with a short excerpt of the reply (never the authenticator). A cut-off or HTML reply is
 * retryable; a malformed or unexpected one is not.
 */
export class BoincXmlError extends TsmwError {
  static readonly code = 'TSMW_BOINC_XML';
  readonly reason: BoincXmlErrorReason;
  readonly operation: string;

  constructor(message: string, options: BoincXmlErrorOptions) {
    super(BoincXmlError.code, message, {
      ...options,
      retryable: options.retryable ?? (options.reason === 'truncated' || options.reason === 'html' || options.reason === 'empty'),
    });
    this.name = 'BoincXmlError';
    this.reason = options.reason;
    this.operation = options.operation;
  }

  static override isInstance(value: unknown): value is BoincXmlError {
    return TsmwError.isInstance(value) && value.code === BoincXmlError.code;
  }
}
