import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** An envelope written in a wire-format version this copy of tsmw cannot read. */
export class UnsupportedEnvelopeVersionError extends TsmwError {
  static readonly code = 'TSMW_ENVELOPE_VERSION';
  readonly version: unknown;
  readonly supportedVersions: readonly number[];

  constructor(version: unknown, supportedVersions: readonly number[], options: TsmwErrorOptions = {}) {
    super(
      UnsupportedEnvelopeVersionError.code,
      `Envelope format version ${JSON.stringify(version) ?? String(version)} is not supported (this tsmw reads ${supportedVersions.join(', ')})`,
      options,
    );
    this.name = 'UnsupportedEnvelopeVersionError';
    this.version = version;
    this.supportedVersions = supportedVersions;
  }

  static override isInstance(value: unknown): value is UnsupportedEnvelopeVersionError {
    return hasErrorCode(value, UnsupportedEnvelopeVersionError.code);
  }
}
