import type { ConsoleLine, ErrorData } from '../wire/envelope.js';
import { TsmwError, hasErrorCode } from './tsmw-error.js';

/**
 * The task's own code threw (or rejected). The thrown error travelled as data and is rebuilt
 * here: `remote` holds its name, message, code and stack as sent, and `cause` is an `Error`
 * rebuilt from it (with its own cause chain), so `error.cause.name` is the task's error name.
 */
export class TaskFailedError extends TsmwError {
  static readonly code = 'TSMW_TASK_FAILED';
  readonly taskId: string;
  readonly taskName: string;
  /** The task's error as it crossed the wire. */
  readonly remote: ErrorData;
  /** What the task wrote to its console before it failed. */
  readonly console: readonly ConsoleLine[];

  constructor(taskId: string, taskName: string, remote: ErrorData, consoleLines: readonly ConsoleLine[] = []) {
    super(TaskFailedError.code, `Task ${taskName} (${taskId}) failed: ${remote.name}: ${remote.message}`, {
      cause: rebuildError(remote),
      retryable: remote.retryable === true,
    });
    this.name = 'TaskFailedError';
    this.taskId = taskId;
    this.taskName = taskName;
    this.remote = remote;
    this.console = consoleLines;
  }

  /** The `code` of the task's own error, if it had one (for example `ENOENT` or `E_BAD_INPUT`). */
  get remoteCode(): string | number | undefined {
    return this.remote.code;
  }

  static override isInstance(value: unknown): value is TaskFailedError {
    return hasErrorCode(value, TaskFailedError.code);
  }
}

/** Rebuilds an `Error` from error data: same name, message, code, stack and cause chain. */
export function rebuildError(data: ErrorData): Error {
  const error = new Error(data.message, data.cause === undefined ? undefined : { cause: rebuildError(data.cause) });
  Object.defineProperty(error, 'name', { value: data.name, enumerable: false, writable: true, configurable: true });
  if (data.code !== undefined) Object.defineProperty(error, 'code', { value: data.code, enumerable: true, writable: true, configurable: true });
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}
