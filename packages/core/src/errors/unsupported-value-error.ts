import { TsmwError, hasErrorCode, type TsmwErrorOptions } from './tsmw-error.js';

/**
 * A value that cannot cross to a worker or back, refused when it is encoded, before anything is
 * sent: a function, a symbol (as a value or as a property key), an instance of a class with
 * methods, a WeakMap, WeakSet, WeakRef or Promise, a SharedArrayBuffer, a circular reference, or
 * nesting deeper than the wire allows. `path` says where the value is, from the root the encoder
 * was given (`input` for what `submit` sends, `output` for what a task returns, `state` for a
 * checkpoint):
 *
 * - `input.items[3].callback is a function`
 * - `input.a.b is a circular reference to input.a`
 * - `output.table.get("x") is a symbol`, `input.tags.values()[2] ...` (a Map value, a Set member)
 */
export class UnsupportedValueError extends TsmwError {
  static readonly code = 'TSMW_UNSUPPORTED_VALUE';
  /** Where the value is, as a JavaScript-like path from the root: `input.items[3].callback`. */
  readonly path: string;
  /** What is wrong with it: `is a function`, `is a circular reference to input.a`. */
  readonly reason: string;

  constructor(path: string, reason: string, options: TsmwErrorOptions = {}) {
    super(UnsupportedValueError.code, `${path} ${reason}`, options);
    this.name = 'UnsupportedValueError';
    this.path = path;
    this.reason = reason;
  }

  static override isInstance(value: unknown): value is UnsupportedValueError {
    return hasErrorCode(value, UnsupportedValueError.code);
  }
}
