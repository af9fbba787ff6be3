import { writeFile } from 'node:fs/promises';
import { detachedReport, type DetachedReport } from '../shared/detached-report.js';
import { showProgress } from '../shared/progress-display.js';
import { startExampleMaster, submitAll, wholeNumber } from '../shared/start-example-master.js';
import type { TransportSettings } from '../shared/transport-options.js';
import { UsageError } from '../shared/usage-error.js';
import { encodePng } from './encode-png.js';
import { renderTile, type Tile, type View } from './tasks.js';

export interface MandelbrotOptions extends TransportSettings, View {
  /** The side of a square tile, in pixels: one task each. */
  readonly tile: number;
  /** Where the PNG is written (an absolute path, or relative to the working directory). */
  readonly output: string;
  readonly progress: boolean;
}

export interface MandelbrotReport {
  readonly output: string;
  readonly width: number;
  readonly height: number;
  readonly tiles: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly transport: string;
  readonly workers: number | null;
  readonly batch: string | null;
}

/** Floating-point operations per pixel and iteration, roughly (a complex square and add, a compare): an upper bound per tile for BOINC's rsc_fpops_est. */
const fpopsPerIteration = 10;

/** Renders the Mandelbrot set, one tile per task, and writes it as a PNG. */
export async function runMandelbrot(options: MandelbrotOptions): Promise<MandelbrotReport | DetachedReport> {
  const width = wholeNumber(options.width, '--width', 1, 20_000);
  const height = wholeNumber(options.height, '--height', 1, 20_000);
  const side = wholeNumber(options.tile, '--tile', 1, 4096);
  const iterations = wholeNumber(options.iterations, '--iterations', 1, 10_000_000);
  for (const [name, value] of [['--center-x', options.centerX], ['--center-y', options.centerY]] as const) {
    if (!Number.isFinite(value)) throw new UsageError(`${name} must be a number, not ${value}`);
  }
  if (!(options.span > 0) || !Number.isFinite(options.span)) throw new UsageError(`--span must be a number above 0, not ${options.span}`);
  const view: View = { width, height, centerX: options.centerX, centerY: options.centerY, span: options.span, iterations };
  const tiles: Tile[] = [];
  for (let top = 0; top < height; top += side) {
    for (let left = 0; left < width; left += side) tiles.push({ view, left, top, width: Math.min(side, width - left), height: Math.min(side, height - top) });
  }
  const started = performance.now();
  const example = await startExampleMaster(options, new URL('./mandelbrot/tasks.js', import.meta.url), {
    example: 'mandelbrot',
    work: { view, tile: side },
    fpopsPerTask: Math.min(side, width) * Math.min(side, height) * iterations * fpopsPerIteration,
  });
  const { master, workers } = example;
  const rgb = new Uint8Array(width * height * 3);
  try {
    const stopProgress = showProgress(example, tiles.length, options.progress, 'tiles');
    try {
      if (example.detach) {
        await submitAll(example, renderTile, tiles, 'tile-');
        await master.detach();
        return detachedReport(example, tiles.length);
      }
      for await (const rendered of master.mapStream(renderTile, tiles, { keyPrefix: 'tile-' })) {
        for (let row = 0; row < rendered.height; row += 1) {
          const from = row * rendered.width * 3;
          rgb.set(rendered.rgb.subarray(from, from + rendered.width * 3), ((rendered.top + row) * width + rendered.left) * 3);
        }
      }
    } finally {
      stopProgress();
    }
  } finally {
    await master.close();
  }
  const png = encodePng(width, height, rgb);
  await writeFile(options.output, png);
  return {
    output: options.output,
    width,
    height,
    tiles: tiles.length,
    bytes: png.byteLength,
    seconds: (performance.now() - started) / 1000,
    transport: master.transportId,
    workers: workers ?? null,
    batch: master.batch ?? null,
  };
}
