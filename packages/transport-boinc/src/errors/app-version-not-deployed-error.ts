import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * No app version of the project carries the master's task module (bundled with its imports, as
 * volunteers would run it): the code changed since the last deploy, or it was never deployed.
 * The message says which `tsmw-setup deploy` command fixes it.
 */
export class AppVersionNotDeployedError extends TsmwError {
  static readonly code = 'TSMW_BOINC_APP_VERSION_NOT_DEPLOYED';

  constructor(
    readonly app: string,
    readonly moduleHash: string,
    message: string,
    options: TsmwErrorOptions = {},
  ) {
    super(AppVersionNotDeployedError.code, message, options);
    this.name = 'AppVersionNotDeployedError';
  }

  static override isInstance(value: unknown): value is AppVersionNotDeployedError {
    return TsmwError.isInstance(value) && value.code === AppVersionNotDeployedError.code;
  }
}
