import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * The batch store needs SQLite and this Node has none: no `node:sqlite` (built into Node 22.13
 * and newer) and no working `better-sqlite3` (an optional dependency, which npm may have skipped
 * where it could neither download a prebuilt binary nor compile one). The message says which Node
 * runs and what to install.
 */
export class SqliteUnavailableError extends TsmwError {
  static readonly code = 'TSMW_BOINC_SQLITE_UNAVAILABLE';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(SqliteUnavailableError.code, message, options);
    this.name = 'SqliteUnavailableError';
  }

  static override isInstance(value: unknown): value is SqliteUnavailableError {
    return TsmwError.isInstance(value) && value.code === SqliteUnavailableError.code;
  }
}
