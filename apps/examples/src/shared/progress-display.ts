import type { ExampleMaster } from './start-example-master.js';

/** Shows how many tasks are done: a redrawn bar on a terminal, plain lines elsewhere. */
export interface ProgressDisplay {
  update(done: number): void;
  finish(): void;
}

export interface ProgressDisplayOptions {
  /** What is counted (default `tasks`). */
  readonly unit?: string;
  /**
   * Plain lines for a batch grid (BOINC), where results arrive over minutes to days: a line with
   * the time whenever the count changes, at most one every `lineIntervalMs` (the latest count is
   * printed when the interval ends). Otherwise a line every 10 %.
   */
  readonly batch?: boolean;
  /** Default 10,000 ms. */
  readonly lineIntervalMs?: number;
  /** Default `Date.now`. */
  readonly now?: () => number;
}

export function createProgressDisplay(total: number, stream: NodeJS.WriteStream = process.stderr, options: ProgressDisplayOptions = {}): ProgressDisplay {
  const unit = options.unit ?? 'tasks';
  const now = options.now ?? Date.now;
  const interactive = stream.isTTY === true;
  const width = 30;
  const lineIntervalMs = options.lineIntervalMs ?? 10_000;
  let lastDecile = -1;
  let lastDraw = 0;
  let latest = 0;
  let printed = -1;
  let pending: NodeJS.Timeout | undefined;
  const fractionOf = (done: number): number => (total === 0 ? 1 : Math.min(1, done / total));
  const printLine = (): void => {
    pending = undefined;
    if (latest === printed) return;
    printed = latest;
    lastDraw = now();
    const time = new Date(lastDraw).toTimeString().slice(0, 8);
    stream.write(`${time} ${latest}/${total} ${unit} done (${Math.floor(fractionOf(latest) * 100)}%)\n`);
  };
  const draw = (done: number): void => {
    latest = done;
    const fraction = fractionOf(done);
    if (interactive) {
      const time = now();
      if (done !== total && time - lastDraw < 100) return;
      lastDraw = time;
      const filled = Math.round(fraction * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit} ${Math.floor(fraction * 100)}%`);
      return;
    }
    if (options.batch === true) {
      if (done === total && pending !== undefined) {
        clearTimeout(pending); // the last count does not wait for the interval
        pending = undefined;
      }
      if (pending !== undefined) return;
      const wait = lastDraw + lineIntervalMs - now();
      if (printed === -1 || done === total || wait <= 0) printLine();
      else pending = setTimeout(printLine, wait).unref();
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile !== lastDecile) {
      lastDecile = decile;
      stream.write(`${done}/${total} ${unit} done (${decile * 10}%)\n`);
    }
  };
  return {
    update: draw,
    finish(): void {
      if (interactive) stream.write('\n');
      else if (options.batch === true) {
        if (pending !== undefined) clearTimeout(pending);
        printLine();
      }
    },
  };
}

/**
 * Counts the master's completed tasks on a progress display (none when `enabled` is false). On
 * BOINC it first says which batch this is, where its tasks go, and what an earlier master of
 * the batch left. Returns a function that stops counting and ends the display.
 */
export function showProgress(example: ExampleMaster, total: number, enabled: boolean, unit = 'tasks'): () => void {
  if (!enabled) return () => {};
  const { master, boinc } = example;
  if (boinc !== undefined) {
    const recovered = master.stats().recovered;
    process.stderr.write(
      `batch ${example.batch}: ${total} ${unit} on BOINC (app ${boinc.app}, ${boinc.mode === 'on-server' ? 'project' : 'remote project'} ${boinc.project})` +
        (recovered > 0 ? `, ${recovered} of them still open from an earlier run` : '') +
        '\n',
    );
  }
  if (example.detach) return () => {};
  const display = createProgressDisplay(total, process.stderr, { unit, batch: boinc !== undefined });
  let done = 0;
  display.update(0);
  const stop = master.on('task-completed', () => display.update(++done));
  return () => {
    stop();
    display.finish();
  };
}
