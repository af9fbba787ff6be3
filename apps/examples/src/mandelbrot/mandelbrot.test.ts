import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliJson } from '../../test/run-cli.js';
import { encodePng } from './encode-png.js';
import type { MandelbrotReport } from './run-mandelbrot.js';
import { colorPoint, pixelToPoint, type View } from './tasks.js';

interface DecodedPng {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

/** Reads an 8-bit RGB PNG as a viewer would: checks the signature and every chunk's CRC, inflates, and undoes the row filters (None, Sub, Up). */
function decodePng(file: Uint8Array): DecodedPng {
  const bytes = Buffer.from(file);
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let offset = 8;
  let width = 0;
  let height = 0;
  const data: Buffer[] = [];
  const types: string[] = [];
  while (offset < bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    expect(bytes.readUInt32BE(offset + 8 + length), `CRC of ${type}`).toBe(crc32(bytes.subarray(offset + 4, offset + 8 + length)));
    types.push(type);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      expect([...body.subarray(8)]).toEqual([8, 2, 0, 0, 0]);
    }
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  expect(types[0]).toBe('IHDR');
  expect(types.at(-1)).toBe('IEND');
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * 3;
  expect(raw.length).toBe((stride + 1) * height);
  const rgb = new Uint8Array(stride * height);
  for (let row = 0; row < height; row += 1) {
    const filter = raw[row * (stride + 1)]!;
    for (let index = 0; index < stride; index += 1) {
      const value = raw[row * (stride + 1) + 1 + index]!;
      const left = index >= 3 ? rgb[row * stride + index - 3]! : 0;
      const above = row > 0 ? rgb[(row - 1) * stride + index]! : 0;
      if (filter === 0) rgb[row * stride + index] = value;
      else if (filter === 1) rgb[row * stride + index] = (value + left) & 0xff;
      else if (filter === 2) rgb[row * stride + index] = (value + above) & 0xff;
      else throw new Error(`filter ${filter} is not expected`);
    }
  }
  return { width, height, rgb };
}

function pixel(png: DecodedPng, column: number, row: number): number[] {
  const offset = (row * png.width + column) * 3;
  return [...png.rgb.subarray(offset, offset + 3)];
}

describe('mandelbrot', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'tsmw-mandelbrot-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('encodePng writes a PNG that decodes to the same pixels', () => {
    const width = 7;
    const height = 5;
    const rgb = Uint8Array.from({ length: width * height * 3 }, (_, index) => (index * 37 + (index >> 3)) & 0xff);
    const decoded = decodePng(encodePng(width, height, rgb));
    expect(decoded.width).toBe(width);
    expect(decoded.height).toBe(height);
    expect(decoded.rgb).toEqual(rgb);
    expect(() => encodePng(width, height, rgb.subarray(1))).toThrow(RangeError);
    expect(() => encodePng(0, height, new Uint8Array(0))).toThrow(RangeError);
  });

  it('the CLI renders tiles on the local transport into a PNG with the set in the right place', async () => {
    const output = join(directory, 'set.png');
    // 301 x 203 with 64-pixel tiles: the last column and row of tiles are narrower.
    const report = await runCliJson<MandelbrotReport>(['mandelbrot', '-o', output, '--width', '301', '--height', '203', '--tile', '64', '--iterations', '300', '-n', '2']);
    expect(report).toMatchObject({ output, width: 301, height: 203, tiles: 5 * 4, workers: 2, transport: 'tsmw.local' });
    const file = await readFile(output);
    expect(report.bytes).toBe(file.byteLength);
    const png = decodePng(file);
    expect([png.width, png.height]).toEqual([301, 203]);

    const view: View = { width: 301, height: 203, centerX: -0.75, centerY: 0, span: 3.5, iterations: 300 };
    // Known pixels: the middle of the main cardioid (about -0.25 + 0i) is in the set: black.
    const column = Math.round((-0.25 + 0.75) / (3.5 / 301) + 301 / 2 - 0.5);
    expect(pixelToPoint(view, column, 101)[0]).toBeCloseTo(-0.25, 1);
    expect(pixel(png, column, 101)).toEqual([0, 0, 0]);
    // The corner (-2.5 + 1.18i) escapes at once: not black.
    expect(pixel(png, 0, 0)).not.toEqual([0, 0, 0]);
    // Every pixel is what the task's colouring gives for its point: the tiles are where they belong.
    const expected = new Uint8Array(301 * 203 * 3);
    for (let row = 0; row < 203; row += 1) {
      for (let index = 0; index < 301; index += 1) {
        const [x, y] = pixelToPoint(view, index, row);
        colorPoint(x, y, 300, expected, (row * 301 + index) * 3);
      }
    }
    expect(Buffer.compare(Buffer.from(png.rgb), Buffer.from(expected))).toBe(0);
    // The picture is symmetric about the real axis, which runs through the middle row.
    expect(pixel(png, 40, 10)).toEqual(pixel(png, 40, 192));
  });

  it('refuses a bad size with exit code 2 and a one-line reason', async () => {
    const run = await runCli(['mandelbrot', '--width', '0', '-o', join(directory, 'never.png')]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain('--width');
  });
});
