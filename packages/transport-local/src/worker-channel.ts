/**
 * The pool's side of one worker: a worker thread or a child process behind the same small
 * interface, so that the pool does not care which.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { FromWorkerMessage, ToWorkerMessage } from './protocol.js';
import { workerEntryUrl } from './worker-entry-url.js';

/** How a worker ended. */
export interface WorkerExit {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  /** What the worker threw outside any task, or why it could not start (out of memory, say). */
  readonly error: Error | undefined;
}

export interface WorkerChannelOptions {
  readonly resourceLimits: ResourceLimits | undefined;
  /** The worker's environment variables. */
  readonly env: NodeJS.ProcessEnv;
  readonly onMessage: (message: FromWorkerMessage) => void;
  /** Called exactly once, when the worker has ended (whatever the reason). */
  readonly onExit: (exit: WorkerExit) => void;
}

export interface WorkerChannel {
  /** Sends a message; `transfer` buffers move to a thread (a child process gets a copy). */
  post(message: ToWorkerMessage, transfer?: ArrayBuffer[]): void;
  /**
   * Stops the worker now (whatever it is running); `onExit` follows. From here on the worker
   * keeps the master's process alive until it has exited (`ref` and `unref` do nothing more).
   */
  terminate(): void;
  /** Whether the worker keeps the master's process alive (while it has work). */
  ref(): void;
  unref(): void;
}

/**
 * The master's Node flags, for its workers (a loader such as tsx must reach them to import a
 * TypeScript task module), without the `@tsmw/source` condition: it points packages at their
 * TypeScript sources, which only a test runner's transform can load, while workers run plain
 * JavaScript.
 */
export function inheritedExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  if (!execArgv.some((argument) => argument.includes(SOURCE_CONDITION))) return [...execArgv];
  const kept: string[] = [];
  for (let index = 0; index < execArgv.length; index += 1) {
    const argument = execArgv[index]!;
    if ((argument === '--conditions' || argument === '-C') && execArgv[index + 1] === SOURCE_CONDITION) {
      index += 1;
      continue;
    }
    if (argument === `--conditions=${SOURCE_CONDITION}` || argument === `-C=${SOURCE_CONDITION}`) continue;
    kept.push(argument);
  }
  return kept;
}

const SOURCE_CONDITION = '@tsmw/source';

export function createThreadChannel(options: WorkerChannelOptions): WorkerChannel {
  const worker = new Worker(workerEntryUrl('thread-worker'), {
    env: options.env,
    // Left to Node (which drops the per-process flags a thread cannot take) unless the source
    // condition must go.
    ...(process.execArgv.some((argument) => argument.includes(SOURCE_CONDITION)) ? { execArgv: inheritedExecArgv() } : {}),
    ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
  });
  let error: Error | undefined;
  let exited = false;
  let terminating = false;
  worker.on('message', options.onMessage);
  worker.on('error', (thrown: Error) => {
    error ??= thrown;
  });
  worker.on('exit', (exitCode: number) => {
    exited = true;
    options.onExit({ exitCode, signal: undefined, error });
  });
  return {
    post(message, transfer) {
      if (!exited) worker.postMessage(message, transfer ?? []);
    },
    terminate() {
      if (exited) return;
      terminating = true;
      worker.ref(); // so that the process lives until the exit, which the pool waits for
      void worker.terminate();
    },
    ref() {
      if (!terminating) worker.ref();
    },
    unref() {
      if (!terminating) worker.unref();
    },
  };
}

export function createProcessChannel(options: WorkerChannelOptions): WorkerChannel {
  const limits = options.resourceLimits;
  const execArgv = inheritedExecArgv();
  if (limits?.maxOldGenerationSizeMb !== undefined) execArgv.push(`--max-old-space-size=${Math.max(1, Math.floor(limits.maxOldGenerationSizeMb))}`);
  if (limits?.maxYoungGenerationSizeMb !== undefined) execArgv.push(`--max-semi-space-size=${Math.max(1, Math.floor(limits.maxYoungGenerationSizeMb / 3))}`);
  if (limits?.stackSizeMb !== undefined) execArgv.push(`--stack-size=${Math.max(1, Math.floor(limits.stackSizeMb * 1024))}`);
  const child: ChildProcess = fork(fileURLToPath(workerEntryUrl('process-worker')), [], {
    serialization: 'advanced',
    env: options.env,
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let error: Error | undefined;
  let exited = false;
  let terminating = false;
  child.on('message', (message) => options.onMessage(message as FromWorkerMessage));
  child.on('error', (thrown: Error) => {
    error ??= thrown;
    // A child that could not be spawned, or whose channel broke, is of no more use.
    if (!exited) child.kill('SIGKILL');
  });
  child.on('exit', (code, signal) => {
    exited = true;
    options.onExit({ exitCode: code ?? undefined, signal: signal ?? undefined, error });
  });
  return {
    post(message) {
      if (!exited && child.connected) child.send(message);
    },
    terminate() {
      if (exited) return;
      terminating = true;
      child.ref(); // so that the process lives until the exit, which the pool waits for
      child.kill('SIGKILL');
    },
    ref() {
      if (terminating) return;
      child.ref();
      (child.channel as { ref?: () => void } | null | undefined)?.ref?.();
    },
    unref() {
      if (terminating) return;
      child.unref();
      (child.channel as { unref?: () => void } | null | undefined)?.unref?.();
    },
  };
}
