import { crc32, deflateSync } from 'node:zlib';

const signature = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/**
 * Encodes an 8-bit RGB picture (`rgb`: red, green, blue bytes, row by row) as a PNG file: one
 * IDAT chunk, each row filtered with the "Up" filter (PNG filter type 2), which compresses
 * smooth pictures well and is simple to undo.
 */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1 || width > 0x7fffffff || height > 0x7fffffff) {
    throw new RangeError(`A PNG must be at least 1 x 1 pixels, not ${width} x ${height}`);
  }
  const stride = width * 3;
  if (rgb.byteLength !== stride * height) throw new RangeError(`${width} x ${height} RGB pixels are ${stride * height} bytes, not ${rgb.byteLength}`);
  const filtered = Buffer.alloc((stride + 1) * height);
  for (let row = 0; row < height; row += 1) {
    const out = row * (stride + 1);
    const line = row * stride;
    filtered[out] = 2;
    for (let index = 0; index < stride; index += 1) {
      const above = row === 0 ? 0 : rgb[line - stride + index]!;
      filtered[out + 1 + index] = (rgb[line + index]! - above) & 0xff;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  header[10] = 0; // compression: deflate
  header[11] = 0; // filter method: adaptive
  header[12] = 0; // no interlace
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(filtered, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Uint8Array): Buffer {
  const bytes = Buffer.alloc(12 + data.byteLength);
  bytes.writeUInt32BE(data.byteLength, 0);
  bytes.write(type, 4, 'latin1');
  bytes.set(data, 8);
  bytes.writeUInt32BE(crc32(bytes.subarray(4, 8 + data.byteLength)), 8 + data.byteLength);
  return bytes;
}
