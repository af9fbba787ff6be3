// The task module of the mandelbrot example: workers load this file.
import { defineTask } from '@tsmw/core';

/** Which part of the plane the picture shows. */
export interface View {
  /** The picture's size in pixels. */
  readonly width: number;
  readonly height: number;
  /** The point at the centre of the picture. */
  readonly centerX: number;
  readonly centerY: number;
  /** How wide the picture is in the plane (3.5 shows the whole set). */
  readonly span: number;
  /** Iterations before a point is taken to be in the set. */
  readonly iterations: number;
}

/** One rectangle of the picture: a task. */
export interface Tile {
  readonly view: View;
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface RenderedTile {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
  /** Red, green, blue bytes, row by row. */
  readonly rgb: Uint8Array;
}

/** Renders one tile of the picture. */
export const renderTile = defineTask('mandelbrot-tile', (tile: Tile, context): RenderedTile => {
  const { view, left, top, width, height } = tile;
  const rgb = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row += 1) {
    for (let column = 0; column < width; column += 1) {
      const [x, y] = pixelToPoint(view, left + column, top + row);
      const offset = (row * width + column) * 3;
      colorPoint(x, y, view.iterations, rgb, offset);
    }
    if (row % 16 === 15) {
      context.progress((row + 1) / height);
      context.signal.throwIfAborted();
    }
  }
  return { left, top, width, height, rgb };
});

/** The point of the plane at the centre of a pixel (y grows upwards in the plane, downwards in the picture). */
export function pixelToPoint(view: View, column: number, row: number): [number, number] {
  const scale = view.span / view.width;
  return [view.centerX + (column + 0.5 - view.width / 2) * scale, view.centerY - (row + 0.5 - view.height / 2) * scale];
}

/**
 * Writes the colour of point (x, y) at `offset`: black inside the set, and outside a colour
 * that follows the smoothed escape time (dark blue, through white, to orange).
 */
export function colorPoint(x: number, y: number, iterations: number, rgb: Uint8Array, offset: number): void {
  let zx = 0;
  let zy = 0;
  let zx2 = 0;
  let zy2 = 0;
  let iteration = 0;
  // Escape radius 16 (not 2) makes the smoothed count continuous.
  while (iteration < iterations && zx2 + zy2 <= 256) {
    zy = 2 * zx * zy + y;
    zx = zx2 - zy2 + x;
    zx2 = zx * zx;
    zy2 = zy * zy;
    iteration += 1;
  }
  if (iteration >= iterations) {
    rgb[offset] = 0;
    rgb[offset + 1] = 0;
    rgb[offset + 2] = 0;
    return;
  }
  const smooth = iteration + 1 - Math.log2(Math.log2(zx2 + zy2) / 2);
  const phase = Math.sqrt(Math.max(0, smooth)) / 4;
  rgb[offset] = channel(phase, 0.0);
  rgb[offset + 1] = channel(phase, 0.15);
  rgb[offset + 2] = channel(phase, 0.35);
}

function channel(phase: number, shift: number): number {
  return Math.round(255 * (0.5 + 0.5 * Math.cos(2 * Math.PI * (phase + shift + 0.5))));
}
