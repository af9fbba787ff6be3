import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * A project file (`config.xml`, `project.xml`) is broken or not as expected: not XML, no `<daemons>`, two apps of one name, a daemon for the app that tsmw did not add. Found before anything is written; the message names the file, the line and what to fix.
 */
export class ProjectFileError extends TsmwError {
  static readonly code = 'TSMW_SETUP_PROJECT_FILE';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(ProjectFileError.code, message, options);
    this.name = 'ProjectFileError';
  }

  static override isInstance(value: unknown): value is ProjectFileError {
    return TsmwError.isInstance(value) && value.code === ProjectFileError.code;
  }
}
