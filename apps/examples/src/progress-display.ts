/** Shows how many tasks are done: a redrawn bar on a terminal, plain lines (every 10 %) elsewhere. */
export interface ProgressDisplay {
  update(done: number): void;
  finish(): void;
}

export function createProgressDisplay(total: number, stream: NodeJS.WriteStream = process.stderr): ProgressDisplay {
  const interactive = stream.isTTY === true;
  const width = 30;
  let lastDecile = -1;
  let lastDraw = 0;
  const draw = (done: number): void => {
    const fraction = total === 0 ? 1 : done / total;
    if (interactive) {
      const now = Date.now();
      if (done !== total && now - lastDraw < 100) return;
      lastDraw = now;
      const filled = Math.round(fraction * width);
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} tasks ${Math.floor(fraction * 100)}%`);
      return;
    }
    const decile = Math.floor(fraction * 10);
    if (decile !== lastDecile) {
      lastDecile = decile;
      stream.write(`${done}/${total} tasks done (${decile * 10}%)\n`);
    }
  };
  return {
    update: draw,
    finish(): void {
      if (interactive) stream.write('\n');
    },
  };
}
