import { format } from 'node:util';
import type { ConsoleLine } from '../wire/envelope.js';
import { MAX_CONSOLE_CHARACTERS, MAX_CONSOLE_LINES } from '../wire/limits.js';

/** The console output of one task, collected as lines. */
export class ConsoleCollector {
  readonly lines: ConsoleLine[] = [];
  private characters = 0;
  private truncated = false;
  private partial: { stdout: string; stderr: string } = { stdout: '', stderr: '' };

  write(stream: 'stdout' | 'stderr', chunk: string): void {
    const text = this.partial[stream] + chunk;
    const parts = text.split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const line of parts) this.push(stream, line);
  }

  /** Ends the collection: a last line without a newline is kept. */
  finish(): ConsoleLine[] {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream] !== '') this.push(stream, this.partial[stream]);
      this.partial[stream] = '';
    }
    return this.lines;
  }

  private push(stream: 'stdout' | 'stderr', text: string): void {
    if (this.truncated) return;
    if (this.lines.length >= MAX_CONSOLE_LINES || this.characters + text.length > MAX_CONSOLE_CHARACTERS) {
      this.truncated = true;
      this.lines.push({ stream: 'stderr', text: '[tsmw: console output truncated]' });
      return;
    }
    this.characters += text.length;
    this.lines.push({ stream, text });
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

const storage = {
  getStore(): ConsoleCollector | undefined {
    return current ?? running[running.length - 1];
  },
};

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
      const collector = storage.getStore();
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
      const collector = storage.getStore();
      if (collector === undefined) return original(chunk, ...rest);
      collector.write(stream, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      const callback = rest.find((argument) => typeof argument === 'function') as (() => void) | undefined;
      if (callback !== undefined) queueMicrotask(callback);
      return true;
    }) as typeof target.write;
  }
}

/**
 * Runs `run` with its console output captured into `collector`. Call `release` once the task
 * has settled (for a synchronous task, at once).
 */
export function runWithConsoleCapture<T>(collector: ConsoleCollector, run: () => T): { value: T; release: () => void } {
  installCapture();
  const previous = current;
  current = collector;
  running.push(collector);
  const release = (): void => {
    const index = running.lastIndexOf(collector);
    if (index >= 0) running.splice(index, 1);
  };
  try {
    return { value: run(), release };
  } catch (error) {
    release();
    throw error;
  } finally {
    current = previous;
  }
}
