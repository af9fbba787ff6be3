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
 * Which task's collector receives output. Not AsyncLocalStorage: on Node 20 it switches on
 * promise hooks for the whole thread, which costs every promise of every task. Instead:
 * - while a task runs synchronously, its collector is current (exact, even when tasks nest);
 * - output after a task's first `await` goes to the most recently started task still running,
 *   which is exact whenever one task at a time runs in the thread (worker threads, worker
 *   processes, the BOINC client runtime) and a best guess when several share it.
 */
let current: ConsoleCollector | undefined;
const running: ConsoleCollector[] = [];
let installed = false;

function currentCollector(): ConsoleCollector | undefined {
  return current ?? running[running.length - 1];
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
 * `collector`; after it, output goes to the most recent collector not yet released.
 * Returns the collector that was current before, for `endSynchronousCapture`.
 */
export function beginCapture(collector: ConsoleCollector): ConsoleCollector | undefined {
  installCapture();
  const previous = current;
  current = collector;
  running.push(collector);
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
