import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { encodeTaskEnvelope, encodeValue, WIRE_FORMAT_VERSION } from '@tsmw/core';
import { readCanonicalTask, type CanonicalTaskCache } from './decode-value.js';
import { canonicalTaskLayout, decodeTaskEnvelope, decodeTaskEnvelopeInGeneral, decodeTaskEnvelopeOf, TaskEnvelopeEncoder } from './task-envelope.js';

const moduleHash = 'a'.repeat(64);
const otherHash = 'b'.repeat(63) + 'c';
const encoder = new TaskEnvelopeEncoder(moduleHash, WIRE_FORMAT_VERSION);
const otherEncoder = new TaskEnvelopeEncoder(otherHash, WIRE_FORMAT_VERSION);

const inputs: ReadonlyArray<readonly [string, unknown]> = [
  ['a small object', { a: 1, b: [2, 'three'] }],
  ['no input', undefined],
  ['null', null],
  ['numbers', [0, -0, 1, -1, 127, 128, 65536, 2 ** 32, -(2 ** 31), 1.5, Number.NaN, Number.NEGATIVE_INFINITY, Number.MAX_SAFE_INTEGER]],
  ['strings', ['', 'é', '𝄞', 'x'.repeat(31), 'z'.repeat(300), 'w'.repeat(70_000), '\ud800 lone']],
  ['a bigint', -(2n ** 70n)],
  ['binary and typed arrays', [new Uint8Array([1, 2, 3]), new Float64Array([1.5]), new ArrayBuffer(4), new DataView(new ArrayBuffer(2))]],
  ['a Map, a Set, dates, a RegExp', [new Map<unknown, unknown>([[1, 'one']]), new Set(['s']), new Date(1_700_000_000_000), new Date(Number.NaN), /a+/g]],
  ['an error with a cause', new RangeError('out of range', { cause: new Error('inner') })],
  ['holes', [1, , 3]], // eslint-disable-line no-sparse-arrays
  ['a key named __proto__', JSON.parse('{"__proto__": {"polluted": true}, "x": 1}')],
  ['a large binary', new Uint8Array(100_000).fill(9)],
];

type Fields = { taskId?: string; taskName?: string; attempt?: number; deadline?: number; fileNames?: readonly string[]; hash?: 'other' };
const variants: ReadonlyArray<readonly [string, Fields]> = [
  ['plain', {}],
  ['attempt 200 (over a fixint)', { attempt: 200 }],
  ['attempt 70,000', { attempt: 70_000 }],
  ['a deadline', { deadline: 1_800_000_000_123.5 }],
  ['an integer deadline', { deadline: 1_800_000_000_123 }],
  ['data files', { fileNames: ['a.bin', 'b-é.txt'] }],
  ['a deadline and data files', { deadline: 5, fileNames: ['only'] }],
  ['a long task id', { taskId: 'id-'.repeat(100) }],
  ['a very long task id', { taskId: 'i'.repeat(70_000) }],
  ['an empty task id', { taskId: '' }],
  ['a unicode task name', { taskName: 'tâche-✓-𝄞' }],
  ['a task name of 600 characters', { taskName: 'n'.repeat(600) }],
  ['another module hash', { hash: 'other' }],
];

const encode = (input: unknown, fields: Fields): Uint8Array =>
  (fields.hash === 'other' ? otherEncoder : encoder)
    .encode(fields.taskId ?? 'mk3j4k5abc-1z', fields.taskName ?? 'add', fields.attempt ?? 1, input, fields.deadline, fields.fileNames)
    .slice();

/** A map in tsmw's encoding, fields in the order given (for envelopes the encoder never writes). */
const envelopeOf = (fields: Record<string, unknown>): Uint8Array => encodeValue(fields).slice();
const base = { kind: 'tsmw-task', version: WIRE_FORMAT_VERSION, taskId: 't-1', taskName: 'add', moduleHash, attempt: 1 };
const at = (bytes: Uint8Array, text: string): number => Buffer.from(bytes).indexOf(text);
const edited = (bytes: Uint8Array, edit: (copy: Uint8Array) => void): Uint8Array => {
  const copy = bytes.slice();
  edit(copy);
  return copy;
};

/** Bytes the fast path must leave to the general one (which decodes them or gives the error). */
const otherLayouts: ReadonlyArray<readonly [string, Uint8Array]> = [
  ['fields in another order', envelopeOf({ version: 1, kind: 'tsmw-task', taskId: 't-1', taskName: 'add', moduleHash, attempt: 1, input: 2 })],
  ['input before attempt', envelopeOf({ kind: 'tsmw-task', version: 1, taskId: 't-1', taskName: 'add', moduleHash, input: 2, attempt: 1 })],
  ['deadline before input', envelopeOf({ ...base, deadline: 9, input: 2 })],
  ['an extra field', envelopeOf({ ...base, input: 2, extra: 'x' })],
  ['an extra field instead of input', envelopeOf({ ...base, extra: 'x' })],
  ['no attempt', envelopeOf({ kind: 'tsmw-task', version: 1, taskId: 't-1', taskName: 'add', moduleHash, input: 2 })],
  ['no task name', envelopeOf({ kind: 'tsmw-task', version: 1, taskId: 't-1', moduleHash, attempt: 1, input: 2 })],
  ['version 2', envelopeOf({ ...base, version: 2, input: 2 })],
  ['another kind', envelopeOf({ ...base, kind: 'tsmw-result', input: 2 })],
  ['attempt 0', envelopeOf({ ...base, attempt: 0 })],
  ['attempt 1.5', envelopeOf({ ...base, attempt: 1.5 })],
  ['attempt as a string', envelopeOf({ ...base, attempt: '1' })],
  ['a numeric task id', envelopeOf({ ...base, taskId: 7 })],
  ['a task name that is not a string', envelopeOf({ ...base, taskName: ['add'] })],
  ['a module hash that is not a string', envelopeOf({ ...base, moduleHash: 42 })],
  ['a deadline of null', envelopeOf({ ...base, input: 1, deadline: null })],
  ['a deadline that is NaN', envelopeOf({ ...base, deadline: Number.NaN })],
  ['a deadline that is a string', envelopeOf({ ...base, deadline: 'soon' })],
  ['empty file names', envelopeOf({ ...base, fileNames: [] })],
  ['file names of null', envelopeOf({ ...base, fileNames: null })],
  ['file names that are not strings', envelopeOf({ ...base, fileNames: ['a', 2] })],
  ['file names with a hole', envelopeOf({ ...base, fileNames: ['a', , 'b'] })], // eslint-disable-line no-sparse-arrays
  ['file names that are a string', envelopeOf({ ...base, fileNames: 'a.bin' })],
  ['an input written as undefined', new Uint8Array([...envelopeOf({ ...base, input: 1 }).subarray(0, -1), ...encodeValue([undefined]).subarray(1)])],
  ['a key of 0xa0 length', edited(encode(1, {}), (copy) => (copy[at(copy, 'attempt') - 1] = 0xa8))],
  ['a map header of 10 fields', edited(encode(1, {}), (copy) => (copy[0] = 0x8a))],
  ['a map header of 5 fields', edited(encode(1, {}), (copy) => (copy[0] = 0x85))],
  ['a map header of 8 fields with 7 written', edited(encode(1, {}), (copy) => (copy[0] = 0x88))],
  ['a map header of 7 fields with 8 written', edited(encode(1, { deadline: 4 }), (copy) => (copy[0] = 0x87))],
  ['kind misspelt', edited(encode(1, {}), (copy) => (copy[at(copy, 'tsmw-task') + 4] = 0x5f))],
  ['version byte 2', edited(encode(1, {}), (copy) => (copy[at(copy, 'version') + 7] = 2))],
  ['a changed module hash', edited(encode(1, {}), (copy) => (copy[at(copy, 'a'.repeat(64)) + 63] = 0x62))],
  ['a changed task name', edited(encode(1, {}), (copy) => (copy[at(copy, 'add')] = 0x62))],
  ['a task name of invalid UTF-8', edited(encode(1, { taskName: 'é' }), (copy) => (copy[at(copy, 'é') + 1] = 0x41))],
  ['cut short in the input', encode({ a: [1, 2, 3] }, {}).subarray(0, -3)],
  ['cut short in the head', encode(1, {}).subarray(0, 12)],
  ['cut short in the module hash', encode(1, {}).subarray(0, 90)],
  ['a byte too many', new Uint8Array([...encode(1, {}), 0xc0])],
  ['byte 0xc1 in the input', edited(encode(5, {}), (copy) => (copy[copy.length - 1] = 0xc1))],
  ['a msgpackr extension in the input', edited(encode(new Uint8Array([1]), {}), (copy) => (copy[at(copy, 'input') + 5] = 0xd4))],
  ['not a map', encodeValue(['tsmw-task']).slice()],
  ['a string', encodeValue('tsmw-task').slice()],
  ['one byte', new Uint8Array([0x86])],
  ['empty', new Uint8Array(0)],
];

const inLayout = new Set(['a changed module hash', 'a changed task name', 'a task name of invalid UTF-8', 'file names with a hole', 'an input written as undefined']);

type Decoded = { readonly value: unknown } | { readonly error: { readonly name: string; readonly code: unknown; readonly message: string } };

function decoded(run: () => unknown): Decoded {
  try {
    return { value: run() };
  } catch (error) {
    const { name, message } = error as Error;
    return { error: { name, code: (error as { code?: unknown }).code, message } };
  }
}

/**
 * `expect(actual).toEqual(expected)`, checked first with Node's strict comparison (which
 * compares typed arrays as bytes): `toEqual` walks a 100,000-byte array element by element, 30 ms
 * a time, so it runs only to report a difference.
 */
function expectEqual(actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
}

/** Both paths on `bytes`, also as a view into a larger buffer, with each expected hash, twice (a cold and a warm cache). */
function expectSameOnBothPaths(bytes: Uint8Array, maxBytes = 1024 * 1024): Decoded {
  const general = decoded(() => decodeTaskEnvelopeInGeneral(bytes, maxBytes));
  const buffer = new Uint8Array(bytes.length + 11);
  buffer.set(bytes, 5);
  const view = buffer.subarray(5, 5 + bytes.length);
  for (const expectedHash of [moduleHash, otherHash, undefined]) {
    for (const input of [bytes, view, bytes]) expectEqual(decoded(() => decodeTaskEnvelopeOf(input, maxBytes, expectedHash)), general);
  }
  expectEqual(decoded(() => decodeTaskEnvelope(bytes, { maxBytes })), general);
  return general;
}

describe('decodeTaskEnvelope: the fast path gives what the general path gives', () => {
  for (const [inputLabel, input] of inputs) {
    for (const [variant, fields] of variants) {
      it(`${inputLabel}, ${variant}`, () => {
        const bytes = encode(input, fields);
        expectEqual(
          bytes,
          encodeTaskEnvelope({
            kind: 'tsmw-task',
            version: WIRE_FORMAT_VERSION,
            taskId: fields.taskId ?? 'mk3j4k5abc-1z',
            taskName: fields.taskName ?? 'add',
            moduleHash: fields.hash === 'other' ? otherHash : moduleHash,
            attempt: fields.attempt ?? 1,
            input,
            ...(fields.deadline === undefined ? {} : { deadline: fields.deadline }),
            ...(fields.fileNames === undefined ? {} : { fileNames: fields.fileNames }),
          }),
        );
        const general = expectSameOnBothPaths(bytes);
        expect(general).toHaveProperty('value.taskId', fields.taskId ?? 'mk3j4k5abc-1z');
        expect(general).toHaveProperty('value.attempt', fields.attempt ?? 1);
      });
    }
  }

  for (const [label, bytes] of otherLayouts) {
    it(label, () => {
      expectSameOnBothPaths(bytes);
    });
  }

  it('one envelope after another, task names and hashes alternating (the cache of the last one read)', () => {
    const sequence = [
      encode(1, {}),
      encode(2, { taskName: 'other' }),
      encode(3, {}),
      encode(4, { hash: 'other' }),
      encode(5, { taskName: 'tâche' }),
      encode(6, { hash: 'other' }),
      edited(encode(7, {}), (copy) => (copy[at(copy, 'a'.repeat(64))] = 0x62)),
      encode(8, {}),
    ];
    for (const expectedHash of [moduleHash, undefined]) {
      for (const bytes of [...sequence, ...sequence.reverse()]) {
        expect(decoded(() => decodeTaskEnvelopeOf(bytes, 1024 * 1024, expectedHash))).toEqual(decoded(() => decodeTaskEnvelopeInGeneral(bytes, 1024 * 1024)));
      }
    }
  });

  it('a cap below the size, or a cap that is not one, is refused on both paths alike', () => {
    const bytes = encode('x'.repeat(100), {});
    const general = expectSameOnBothPaths(bytes, 50);
    expect(general).toHaveProperty('error.code', 'TSMW_ENVELOPE_TOO_LARGE');
    for (const cap of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(decoded(() => decodeTaskEnvelopeOf(bytes, cap, moduleHash))).toEqual(decoded(() => decodeTaskEnvelopeInGeneral(bytes, cap)));
    }
    expect(decoded(() => decodeTaskEnvelopeOf('not bytes' as unknown as Uint8Array, 1024, moduleHash))).toEqual(
      decoded(() => decodeTaskEnvelopeInGeneral('not bytes' as unknown as Uint8Array, 1024)),
    );
  });

  it('takes the fast path for what the encoder writes, and only for that', () => {
    const cache = (): CanonicalTaskCache => ({ middle: undefined, taskName: '', moduleHash: '', expectedModuleHash: undefined, expectedModuleHashField: new DataView(new ArrayBuffer(0)) });
    const warm = cache();
    for (const [inputLabel, input] of inputs) {
      for (const [variant, fields] of variants) {
        const bytes = encode(input, fields);
        expect(readCanonicalTask(bytes, canonicalTaskLayout, cache()), `${inputLabel}, ${variant}`).toBeDefined();
        expect(readCanonicalTask(bytes, canonicalTaskLayout, warm), `${inputLabel}, ${variant}, warm`).toBeDefined();
      }
    }
    for (const [label, bytes] of otherLayouts) {
      // These are in the encoder's layout (an edit of a string it reads, not of a constant; a value the general path takes as it is).
      if (inLayout.has(label)) continue;
      expect(readCanonicalTask(bytes, canonicalTaskLayout, cache()), label).toBeUndefined();
      expect(readCanonicalTask(bytes, canonicalTaskLayout, warm), `${label}, warm`).toBeUndefined();
    }
  });
});
