import { TsmwError, type TsmwErrorOptions } from '@tsmw/core';

/**
 * The Node.js binary for a platform could not be fetched from the npm registry, or what arrived does not match the pinned integrity hash (it is then deleted, never used).
 */
export class NodeDownloadError extends TsmwError {
  static readonly code = 'TSMW_SETUP_NODE_DOWNLOAD';

  constructor(message: string, options: TsmwErrorOptions = {}) {
    super(NodeDownloadError.code, message, options);
    this.name = 'NodeDownloadError';
  }

  static override isInstance(value: unknown): value is NodeDownloadError {
    return TsmwError.isInstance(value) && value.code === NodeDownloadError.code;
  }
}
