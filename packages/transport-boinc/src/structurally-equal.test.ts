import { describe, expect, it } from 'vitest';
import { structurallyEqual } from './structurally-equal.js';

describe('structurallyEqual', () => {
  it.each<[string, unknown, unknown]>([
    ['numbers, NaN and signed zero', [1, Number.NaN, -0], [1, Number.NaN, 0]],
    ['key order', { a: 1, b: [2] }, { b: [2], a: 1 }],
    ['maps with object keys', new Map<unknown, unknown>([[{ x: 1 }, 'a'], ['k', 2]]), new Map<unknown, unknown>([['k', 2], [{ x: 1 }, 'a']])],
    ['sets', new Set([1, { y: 2 }]), new Set([{ y: 2 }, 1])],
    ['dates', new Date(5), new Date(5)],
    ['typed arrays', new Float64Array([1.5, Number.NaN]), new Float64Array([1.5, Number.NaN])],
    ['array buffers', new Uint8Array([1, 2]).buffer, new Uint8Array([1, 2]).buffer],
    ['bigints', 10n ** 30n, 10n ** 30n],
    ['regular expressions', /a+/gi, /a+/gi],
  ])('holds for equal %s', (_name, a, b) => {
    expect(structurallyEqual(a, b)).toBe(true);
  });

  it.each<[string, unknown, unknown]>([
    ['numbers', 1, 1.0000001],
    ['a missing key', { a: 1 }, { a: 1, b: undefined }],
    ['array and object', [1], { 0: 1 }],
    ['typed array kinds', new Uint8Array([1]), new Int8Array([1])],
    ['map values', new Map([['a', 1]]), new Map([['a', 2]])],
    ['set members', new Set([1, 2]), new Set([1, 3])],
    ['dates', new Date(5), new Date(6)],
    ['null and object', null, {}],
    ['errors', new Error('a'), new Error('b')],
  ])('fails for different %s', (_name, a, b) => {
    expect(structurallyEqual(a, b)).toBe(false);
  });
});
