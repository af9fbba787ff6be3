import { EnvelopeDecodeError } from '../errors/envelope-decode-error.js';
import { TsmwError } from '../errors/tsmw-error.js';
import type { ErrorData } from './envelope.js';
import { MAX_ERROR_CAUSE_DEPTH } from './limits.js';
import { expectString, fieldError, isDecodedMap } from './validate.js';

/**
 * Turns anything a task threw into error data that crosses the wire: name, message, code,
 * stack and the `cause` chain (to a depth of 8). Never throws, whatever it is given.
 */
export function serializeError(thrown: unknown, depth = 0): ErrorData {
  try {
    if (thrown instanceof Error || (typeof thrown === 'object' && thrown !== null && 'message' in thrown)) {
      const error = thrown as Error & { code?: unknown; retryable?: unknown; isRetryable?: unknown };
      const code = error.code;
      const cause = error.cause;
      const retryable = TsmwError.isInstance(error) ? error.isRetryable : error.retryable === true;
      return {
        name: safeString(error.name, 'Error'),
        message: safeString(error.message, ''),
        ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
        ...(typeof error.stack === 'string' ? { stack: error.stack } : {}),
        ...(cause !== undefined && depth < MAX_ERROR_CAUSE_DEPTH ? { cause: serializeError(cause, depth + 1) } : {}),
        ...(retryable ? { retryable: true } : {}),
      };
    }
    return { name: 'NonErrorThrown', message: describeThrown(thrown) };
  } catch {
    return { name: 'Error', message: 'An error that could not be read was thrown' };
  }
}

/** Reads error data from a decoded envelope, checking every field. */
export function readErrorData(value: unknown, context: string, depth = 0): ErrorData {
  if (!isDecodedMap(value)) throw new EnvelopeDecodeError(`Malformed ${context}: "error" must be a map`);
  const map = value;
  const code = map['code'];
  if (code !== undefined && code !== null && typeof code !== 'string' && typeof code !== 'number') {
    throw fieldError(context, 'error.code', 'a string or a number', code);
  }
  const stack = map['stack'];
  if (stack !== undefined && stack !== null && typeof stack !== 'string') throw fieldError(context, 'error.stack', 'a string', stack);
  const cause = map['cause'];
  if (cause !== undefined && cause !== null && depth >= MAX_ERROR_CAUSE_DEPTH) {
    throw new EnvelopeDecodeError(`Malformed ${context}: the error's cause chain is deeper than ${MAX_ERROR_CAUSE_DEPTH}`);
  }
  const retryable = map['retryable'];
  return {
    name: expectString(map, 'name', context),
    message: expectString(map, 'message', context),
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(typeof stack === 'string' ? { stack } : {}),
    ...(cause !== undefined && cause !== null ? { cause: readErrorData(cause, context, depth + 1) } : {}),
    ...(retryable === true ? { retryable: true } : {}),
  };
}

function safeString(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : value === undefined ? fallback : String(value);
}

function describeThrown(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  try {
    return JSON.stringify(thrown) ?? String(thrown);
  } catch {
    return String(thrown);
  }
}
