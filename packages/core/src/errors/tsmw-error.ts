const marker = Symbol.for('tsmw.error');

/** Options shared by every tsmw error. */
export interface TsmwErrorOptions {
  readonly cause?: unknown;
  /** Whether running the same task again may succeed (a crashed worker, a lost connection). */
  readonly retryable?: boolean;
}

/**
 * The base of every error tsmw raises. Each subclass has a stable `code` (for example
 * `TSMW_ENVELOPE_TOO_LARGE`) that programs may switch on; messages are for people.
 *
 * `TsmwError.isInstance(value)` works across duplicate copies of this package (it checks a
 * `Symbol.for` marker, not the prototype chain); each subclass has its own `isInstance`.
 */
export class TsmwError extends Error {
  readonly [marker] = true;
  readonly code: string;
  readonly isRetryable: boolean;

  constructor(code: string, message: string, options: TsmwErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TsmwError';
    this.code = code;
    this.isRetryable = options.retryable ?? false;
  }

  static isInstance(value: unknown): value is TsmwError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }
}

/** Builds the `isInstance` of a subclass: the base marker plus the subclass's stable code. */
export function hasErrorCode(value: unknown, code: string): boolean {
  return TsmwError.isInstance(value) && value.code === code;
}
