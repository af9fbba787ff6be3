import { join } from 'node:path';
import { ClientRuntimeError } from './client-runtime-error.js';
import { writeFileAtomicSync } from './slot.js';

export const finishCalledFileName = 'boinc_finish_called';
export const temporaryExitFileName = 'boinc_temporary_exit';
/** The longest delay the client honours; it replaces anything outside 0..86400 with 300. */
export const maxTemporaryExitDelaySeconds = 86_400;

export interface FinishCalledOptions {
  /** The exit status the app will exit with (0 = success). */
  readonly status: number;
  /** One line the client shows with the result. */
  readonly message?: string;
  /** Show `message` to the volunteer as a notice. */
  readonly notice?: boolean;
}

export interface TemporaryExitOptions {
  /** Seconds before the client restarts the task; clamped into 0..86400 and rounded. */
  readonly delaySeconds: number;
  /** Why (required: without it the client ignores the file). One line. */
  readonly reason: string;
  /** Show `reason` to the volunteer as a notice. */
  readonly notice?: boolean;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

/** The text of `boinc_finish_called`: the status, then optionally a message and `notice`. */
export function formatFinishCalled(options: FinishCalledOptions): string {
  if (!Number.isInteger(options.status)) {
    throw new ClientRuntimeError('TSMW_BOINC_EXIT_FILE_INVALID', `boinc_finish_called needs an integer status; got ${options.status}.`);
  }
  if (options.message === undefined && !options.notice) return `${options.status}\n`;
  return `${options.status}\n${oneLine(options.message ?? '')}\n${options.notice ? 'notice' : ''}\n`;
}

/** The text of `boinc_temporary_exit`: the delay, the reason, optionally `notice`. */
export function formatTemporaryExit(options: TemporaryExitOptions): string {
  const reason = oneLine(options.reason);
  if (reason === '') {
    throw new ClientRuntimeError('TSMW_BOINC_EXIT_FILE_INVALID', 'boinc_temporary_exit needs a reason: the client ignores the file without one.');
  }
  const delay = Number.isFinite(options.delaySeconds) ? Math.round(Math.min(maxTemporaryExitDelaySeconds, Math.max(0, options.delaySeconds))) : 300;
  return `${delay}\n${reason}\n${options.notice ? 'notice\n' : ''}`;
}

/**
 * Writes `boinc_finish_called` in the slot (atomically). An app that does not link the BOINC
 * API must write it before exiting, else an exit 0 counts as a premature exit and the task is
 * restarted. Exit with `status` right after. Synchronous, for exit paths.
 */
export function writeFinishCalled(slotDir: string, options: FinishCalledOptions): void {
  writeFileAtomicSync(join(slotDir, finishCalledFileName), formatFinishCalled(options));
}

/**
 * Writes `boinc_temporary_exit` in the slot (atomically): exit 0 right after, and the client
 * restarts the task after the delay (more than 100 temporary exits abort it). Synchronous.
 */
export function writeTemporaryExit(slotDir: string, options: TemporaryExitOptions): void {
  writeFileAtomicSync(join(slotDir, temporaryExitFileName), formatTemporaryExit(options));
}
