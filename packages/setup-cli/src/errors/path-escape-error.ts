import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * A path tsmw-setup was about to write leaves the project directory or the cache (through `..` or a symbolic link). Nothing is written.
 */
export class PathEscapeError extends TsmwError {
  static readonly code = 'TSMW_SETUP_PATH_ESCAPE';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(PathEscapeError.code, message, options);
    this.name = 'PathEscapeError';
  }

  static override isInstance(value: unknown): value is PathEscapeError {
    return TsmwError.isInstance(value) && value.code === PathEscapeError.code;
  }
}
