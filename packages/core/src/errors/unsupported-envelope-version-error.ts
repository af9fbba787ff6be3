import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/** An envelope written in a wire-format version this copy of tsmw cannot read. */
export class UnsupportedEnvelopeVersionError extends TsmwError {
  static readonly code = 'TSMW_ENVELOPE_VERSION';
  readonly version: unknown;
  readonly supportedVersions: readonly number[];

  constructor(version: unknown, supportedVersions: readonly number[], options: TsmwErrorOptions = {}) {
    super(
      UnsupportedEnvelopeVersionError.code,
      `Envelope format version ${describeVersion(version)} is not supported (this tsmw reads ${supportedVersions.join(', ')})`,
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

/** Any decoded value, safely (a version may arrive as a bigint, a map, anything). */
function describeVersion(version: unknown): string {
  if (typeof version === 'number' || typeof version === 'bigint' || typeof version === 'boolean') return String(version);
  if (typeof version === 'string') return JSON.stringify(version.slice(0, 40));
  return version === null ? 'null' : `of type ${typeof version}`;
}
