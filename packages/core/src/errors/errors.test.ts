import { describe, expect, it } from 'vitest';
import {
  EnvelopeDecodeError,
  EnvelopeTooLargeError,
  TaskCancelledError,
  TaskFailedError,
  TaskTimedOutError,
  TransportError,
  TsmwError,
  UnsupportedEnvelopeVersionError,
  WorkerCrashedError,
  rebuildError,
  serializeError,
} from '@tsmw/core';

describe('errors', () => {
  it('every class has a stable code, a name, and is a TsmwError', () => {
    const errors = [
      [new EnvelopeDecodeError('x'), 'TSMW_ENVELOPE_DECODE', 'EnvelopeDecodeError'],
      [new EnvelopeTooLargeError(10, 5), 'TSMW_ENVELOPE_TOO_LARGE', 'EnvelopeTooLargeError'],
      [new UnsupportedEnvelopeVersionError(9, [1]), 'TSMW_ENVELOPE_VERSION', 'UnsupportedEnvelopeVersionError'],
      [new TaskCancelledError('t'), 'TSMW_TASK_CANCELLED', 'TaskCancelledError'],
      [new TaskTimedOutError('t', 5), 'TSMW_TASK_TIMED_OUT', 'TaskTimedOutError'],
      [new WorkerCrashedError('t', 'exit 1'), 'TSMW_WORKER_CRASHED', 'WorkerCrashedError'],
      [new TransportError('down'), 'TSMW_TRANSPORT', 'TransportError'],
    ] as const;
    for (const [error, code, name] of errors) {
      expect(error.code).toBe(code);
      expect(error.name).toBe(name);
      expect(error).toBeInstanceOf(Error);
      expect(TsmwError.isInstance(error)).toBe(true);
    }
  });

  it('isInstance works for a copy from another package instance (Symbol.for marker), and only for its own code', () => {
    const foreign = Object.assign(new Error('from another copy'), { [Symbol.for('tsmw.error')]: true, code: 'TSMW_WORKER_CRASHED', isRetryable: true });
    expect(TsmwError.isInstance(foreign)).toBe(true);
    expect(WorkerCrashedError.isInstance(foreign)).toBe(true);
    expect(TaskCancelledError.isInstance(foreign)).toBe(false);
    expect(TsmwError.isInstance(new Error('plain'))).toBe(false);
    expect(TsmwError.isInstance(null)).toBe(false);
  });

  it('only the worker crash is retryable by default', () => {
    expect(new WorkerCrashedError('t', 'x').isRetryable).toBe(true);
    expect(new TaskCancelledError('t').isRetryable).toBe(false);
    expect(new TransportError('x').isRetryable).toBe(false);
    expect(new TransportError('x', { retryable: true }).isRetryable).toBe(true);
  });

  it('a thrown error survives serialization with name, message, code, stack and causes', () => {
    const inner = Object.assign(new TypeError('inner'), { code: 42 });
    const outer = Object.assign(new RangeError('outer', { cause: inner }), { code: 'E_OUTER' });
    const data = serializeError(outer);
    expect(data).toMatchObject({ name: 'RangeError', message: 'outer', code: 'E_OUTER', cause: { name: 'TypeError', message: 'inner', code: 42 } });
    const rebuilt = rebuildError(data) as Error & { code?: unknown };
    expect(rebuilt.name).toBe('RangeError');
    expect(rebuilt.code).toBe('E_OUTER');
    expect(rebuilt.stack).toBe(outer.stack);
    expect((rebuilt.cause as Error).message).toBe('inner');
    const failed = new TaskFailedError('t-1', 'pi', data);
    expect(failed.remoteCode).toBe('E_OUTER');
    expect(failed.message).toContain('RangeError: outer');
    expect(failed.cause).toBeInstanceOf(Error);
  });

  it('serializes what is not an Error, and cyclic causes, without throwing', () => {
    expect(serializeError('a string')).toEqual({ name: 'NonErrorThrown', message: 'a string' });
    expect(serializeError({ weird: true })).toEqual({ name: 'NonErrorThrown', message: '{"weird":true}' });
    const cyclic = new Error('loop') as Error & { cause?: unknown };
    cyclic.cause = cyclic;
    let depth = 0;
    for (let data = serializeError(cyclic); data.cause !== undefined; data = data.cause) depth += 1;
    expect(depth).toBe(8);
    const hostile = { get message(): string { throw new Error('no'); } };
    expect(serializeError(hostile).name).toBe('Error');
  });
});
