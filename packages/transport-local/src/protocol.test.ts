import { describe, expect, it } from 'vitest';
import { packBatch, unpackBatch } from './protocol.js';

describe('packBatch / unpackBatch', () => {
  it('round-trips sequences and payloads through one buffer, as views', () => {
    const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array([255]), new Uint8Array(1000).fill(7)];
    const sequences = [0, 1, 2 ** 40, 3];
    const buffer = packBatch(sequences, payloads, payloads.length);
    expect(buffer.byteLength).toBe(payloads.length * 12 + 1004);
    const batch = unpackBatch(buffer, payloads.length);
    expect([...batch.sequences]).toEqual(sequences);
    expect([...batch.lengths]).toEqual([3, 0, 1, 1000]);
    let offset = 0;
    for (const [index, payload] of payloads.entries()) {
      expect(batch.bytes.subarray(offset, offset + batch.lengths[index]!)).toEqual(payload);
      offset += batch.lengths[index]!;
    }
    expect(batch.bytes.buffer).toBe(buffer);
  });

  it('packs only the first `count` items', () => {
    const batch = unpackBatch(packBatch([5, 6], [new Uint8Array([1]), new Uint8Array([2])], 1), 1);
    expect([...batch.sequences]).toEqual([5]);
    expect([...batch.bytes]).toEqual([1]);
  });
});
