import type { Master } from '@tsmw/core';

/** Shows how many tasks are done: a redrawn bar on a terminal, plain lines (every 10 %) elsewhere. */
export interface ProgressDisplay {
  update(done: number): void;
  finish(): void;
}

export function createProgressDisplay(total: number, stream: NodeJS.WriteStream = process.stderr, unit = 'tasks'): ProgressDisplay {
  const interactive = stream.isTTY === true;
  const width = 30;
  let lastDecile = -1;
  let lastDraw = 0;
  const draw = (done: number): void => {
    const fraction = total === 0 ? 1 : Math.min(1, done / total);
    if (interactive) {
      const now = Date.now();
      if (done !== total && now - lastDraw < 100) return;
      lastDraw = now;
      const filled = Math.round(fraction * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit} ${Math.floor(fraction * 100)}%`);
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
    },
  };
}

/**
 * Counts the master's completed tasks on a progress display (none when `enabled` is false).
 * Returns a function that stops counting and ends the display.
 */
export function showProgress(master: Master, total: number, enabled: boolean, unit = 'tasks'): () => void {
  if (!enabled) return () => {};
  const display = createProgressDisplay(total, process.stderr, unit);
  let done = 0;
  display.update(0);
  const stop = master.on('task-completed', () => display.update(++done));
  return () => {
    stop();
    display.finish();
  };
}
