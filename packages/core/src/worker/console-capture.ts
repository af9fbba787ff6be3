import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { ConsoleLine } from '../wire/envelope.js';
import { MAX_CONSOLE_CHARACTERS, MAX_CONSOLE_LINES } from '../wire/limits.js';

/** The console output of one task, collected as lines. Costs nothing until the task writes. */
export class ConsoleCollector {
  private lines: ConsoleLine[] | undefined;
  private characters = 0;
  private truncated = false;
  private partialStdout = '';
  private partialStderr = '';

  write(stream: 'stdout' | 'stderr', chunk: string): void {
    const text = (stream === 'stdout' ? this.partialStdout : this.partialStderr) + chunk;
    const parts = text.split('\n');
    const rest = parts.pop() ?? '';
    if (stream === 'stdout') this.partialStdout = rest;
    else this.partialStderr = rest;
    for (const line of parts) this.push(stream, line);
  }

  /** Ends the collection (a last line without a newline is kept); `undefined` if nothing was written. */
  finish(): ConsoleLine[] | undefined {
    if (this.partialStdout !== '') this.push('stdout', this.partialStdout);
    if (this.partialStderr !== '') this.push('stderr', this.partialStderr);
    this.partialStdout = '';
    this.partialStderr = '';
    return this.lines;
  }

  /** Nothing was ever written to it (it can serve another task once released). */
  isUnused(): boolean {
    return this.lines === undefined && this.partialStdout === '' && this.partialStderr === '';
  }

  private push(stream: 'stdout' | 'stderr', text: string): void {
    if (this.truncated) return;
    const lines = (this.lines ??= []);
    if (lines.length >= MAX_CONSOLE_LINES || this.characters + text.length > MAX_CONSOLE_CHARACTERS) {
      this.truncated = true;
      lines.push({ stream: 'stderr', text: '[tsmw: console output truncated]' });
      return;
    }
    this.characters += text.length;
    lines.push({ stream, text });
  }
}

/**
 * Which task's collector receives output:
 * - while a task runs synchronously, its collector is current (exact, even when tasks nest);
 * - after a task's first `await`, it depends on who else writes in the thread:
 *   - `exclusive` (a worker thread or process that runs nothing but tasks, one at a time: the
 *     local transport, the BOINC client runtime): the most recently started task still
 *     running. No AsyncLocalStorage: on Node 20 it switches on promise hooks for the whole
 *     thread, which costs every promise of every task;
 *   - `shared` (tasks run beside other code, such as a master in the same thread): the task's
 *     own asynchronous context (AsyncLocalStorage), so the master's lines, or a later task's,
 *     are never taken for a task's, even one that ran past its time-out.
 */
export type ConsoleCaptureMode = 'exclusive' | 'shared';

let current: ConsoleCollector | undefined;
const running: ConsoleCollector[] = [];
let contextStorage: AsyncLocalStorage<ConsoleCollector> | undefined;
let installed = false;

function currentCollector(): ConsoleCollector | undefined {
  return current ?? contextStorage?.getStore() ?? running[running.length - 1];
}

/** Runs a shared-mode task's code in its own asynchronous context. */
export function runInCaptureContext<Result>(collector: ConsoleCollector, run: () => Result): Result {
  contextStorage ??= new AsyncLocalStorage<ConsoleCollector>();
  return contextStorage.run(collector, run);
}

const consoleStreams = {
  log: 'stdout',
  info: 'stdout',
  debug: 'stdout',
  warn: 'stderr',
  error: 'stderr',
  trace: 'stderr',
} as const;

/**
 * Routes what a running task writes with `console.*` or straight to `process.stdout` /
 * `process.stderr` into that task's collector; output outside any task passes through
 * unchanged. Installed once per thread or process. (Both are patched because a host such as a
 * test runner may replace the global console with one that does not write to process.stdout.)
 */
function installCapture(): void {
  if (installed) return;
  installed = true;
  const globalConsole = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const [method, stream] of Object.entries(consoleStreams)) {
    const original = globalConsole[method];
    if (typeof original !== 'function') continue;
    globalConsole[method] = function captured(this: unknown, ...args: unknown[]): void {
      const collector = currentCollector();
      if (collector === undefined) {
        original.apply(this, args);
        return;
      }
      const text = method === 'trace' ? `Trace: ${format(...args)}\n${new Error().stack?.split('\n').slice(2).join('\n') ?? ''}` : format(...args);
      collector.write(stream, `${text}\n`);
    };
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    const target = process[stream];
    const original = target.write.bind(target) as (...args: unknown[]) => boolean;
    target.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
      const collector = currentCollector();
      if (collector === undefined) return original(chunk, ...rest);
      collector.write(stream, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const callback = rest.find((argument) => typeof argument === 'function') as (() => void) | undefined;
      if (callback !== undefined) queueMicrotask(callback);
      return true;
    }) as typeof target.write;
  }
}

/**
 * Starts capturing a task's output: until `endSynchronousCapture(previous)` everything goes to
 * `collector`; after it, in `exclusive` mode output goes to the most recent collector not yet
 * released, in `shared` mode only output from the task's own context (`runInCaptureContext`).
 * Returns the collector that was current before, for `endSynchronousCapture`.
 */
export function beginCapture(collector: ConsoleCollector, mode: ConsoleCaptureMode): ConsoleCollector | undefined {
  installCapture();
  const previous = current;
  current = collector;
  if (mode === 'exclusive') running.push(collector);
  return previous;
}

/** The task's synchronous part is over: restore the collector that was current before it. */
export function endSynchronousCapture(previous: ConsoleCollector | undefined): void {
  current = previous;
}

/** The task has settled: its collector receives nothing more. */
export function releaseCapture(collector: ConsoleCollector): void {
  const index = running.lastIndexOf(collector);
  if (index >= 0) running.splice(index, 1);
}
