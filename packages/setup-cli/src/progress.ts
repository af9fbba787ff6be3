/** One long step (a download, bundling): a redrawn line on a terminal, nothing elsewhere. */
export interface ProgressStep {
  /** Bytes (or units) done, and the total when known. */
  update(done: number, total?: number): void;
  end(): void;
}

export interface ProgressReporter {
  step(label: string): ProgressStep;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/**
 * Progress on `stream` (stderr) only when it is a terminal: scripts and `--json` consumers see
 * none of it.
 */
export function createProgressReporter(stream: NodeJS.WriteStream = process.stderr, enabled = stream.isTTY === true): ProgressReporter {
  return {
    step(label: string): ProgressStep {
      if (!enabled) return { update() {}, end() {} };
      const started = Date.now();
      let lastDraw = 0;
      const width = 24;
      stream.write(`${label} ...`);
      return {
        update(done: number, total?: number): void {
          const now = Date.now();
          if (now - lastDraw < 100 && (total === undefined || done < total)) return;
          lastDraw = now;
          if (total === undefined || total <= 0) {
            stream.write(`\r\u001B[2K${label} ${megabytes(done)}`);
            return;
          }
          const fraction = Math.min(1, done / total);
          const filled = Math.round(fraction * width);
          stream.write(`\r\u001B[2K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${megabytes(done)} of ${megabytes(total)} ${Math.floor(fraction * 100)}%`);
        },
        end(): void {
          stream.write(`\r\u001B[2K${label} done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
        },
      };
    },
  };
}

export const silentProgress: ProgressReporter = { step: () => ({ update() {}, end() {} }) };
