import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue, EnvelopeDecodeError } from '@tsmw/core';

/** Encodings one after the other in one ArrayBuffer, as a batch of results arrives; views into it. */
function packed(values: readonly unknown[]): Uint8Array[] {
  const encodings = values.map((value) => encodeValue(value).slice());
  const buffer = new ArrayBuffer(encodings.reduce((total, bytes) => total + bytes.length, 3));
  const views: Uint8Array[] = [];
  let offset = 3; // not at the buffer's start
  for (const bytes of encodings) {
    new Uint8Array(buffer, offset, bytes.length).set(bytes);
    views.push(new Uint8Array(buffer, offset, bytes.length));
    offset += bytes.length;
  }
  return views;
}

describe('decodeValue of views into one buffer', () => {
  const values = [
    { a: 1, text: 'short' },
    new Uint8Array([9, 8, 7]),
    'é'.repeat(40),
    new Float64Array([1.5, -2]),
    new Date(1_700_000_000_000),
    [1, , 3], // eslint-disable-line no-sparse-arrays
    new Map([[1, new Set(['x'])]]),
    new Error('kept', { cause: 7 }),
  ];

  it('reads each view alone, whatever it shares its buffer with', () => {
    const views = packed(values);
    const decoded = views.map((view) => decodeValue(view));
    for (let index = 0; index < values.length; index += 1) expect(decoded[index]).toEqual(values[index]);
    // Binaries are copies of their own bytes, not views of the shared buffer.
    const binary = decoded[1] as Uint8Array;
    expect(binary.byteOffset).toBe(0);
    expect(binary.buffer.byteLength).toBe(3);
    expect((decoded[3] as Float64Array).buffer.byteLength).toBe(16);
  });

  it('a view cut short fails alone; the next view of the same buffer still decodes', () => {
    const views = packed([{ a: 'one' }, { b: 'two' }]);
    const first = views[0]!;
    const cut = new Uint8Array(first.buffer, first.byteOffset, first.byteLength - 1);
    expect(() => decodeValue(cut)).toThrow(EnvelopeDecodeError);
    const longer = new Uint8Array(first.buffer, first.byteOffset, first.byteLength + 1);
    expect(() => decodeValue(longer)).toThrow(/1 bytes follow the value/);
    expect(decodeValue(views[1]!)).toEqual({ b: 'two' });
    expect(decodeValue(first)).toEqual({ a: 'one' });
  });

  it('a Buffer from the shared pool and views of other buffers in turn', () => {
    const pooled = Buffer.from(encodeValue({ pooled: true }));
    expect(decodeValue(pooled)).toEqual({ pooled: true });
    const [view] = packed([['other']]);
    expect(decodeValue(view!)).toEqual(['other']);
    expect(decodeValue(Buffer.from(encodeValue('again')))).toBe('again');
  });

  it('a resizable buffer that grew between two decodes', () => {
    const first = encodeValue({ first: 1 }).slice();
    const second = encodeValue({ second: 'twö' }).slice();
    const buffer = new (ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer & { resize(length: number): void })(first.length, {
      maxByteLength: 1024,
    });
    new Uint8Array(buffer).set(first);
    expect(decodeValue(new Uint8Array(buffer, 0, first.length))).toEqual({ first: 1 });
    buffer.resize(first.length + second.length);
    new Uint8Array(buffer).set(second, first.length);
    expect(decodeValue(new Uint8Array(buffer, first.length, second.length))).toEqual({ second: 'twö' });
  });
});
