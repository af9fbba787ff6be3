import { describe, expect, it } from 'vitest';
import { decodeTaskEnvelope, decodeValue, encodeTaskEnvelope, encodeValue, MAX_NESTING_DEPTH, WIRE_FORMAT_VERSION } from '@tsmw/core';
import { TaskEnvelopeEncoder } from './task-envelope.js';

const moduleHash = 'f'.repeat(64);

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < depth; level += 1) value = { inner: value };
  return value;
}

const circular: Record<string, unknown> = { name: 'loop' };
circular['self'] = circular;
const deepCircular: Record<string, unknown> = { a: { b: { c: {} } } };
((deepCircular['a'] as Record<string, unknown>)['b'] as Record<string, Record<string, unknown>>)['c']!['back'] = deepCircular;
const throwingGetter = {
  get broken(): never {
    throw new Error('the getter broke');
  },
};

/** One table: every value either encodes to the same bytes on both paths or is refused with the same error. */
const cases: ReadonlyArray<readonly [string, unknown]> = [
  ['a small object', { a: 1, b: 2 }],
  ['undefined (left out)', undefined],
  ['null', null],
  ['numbers', [0, -0, 1, -1, 127, 128, 255, 256, 65535, 65536, 2 ** 32, -(2 ** 31), 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER]],
  ['strings', ['', 'a', 'é', '€uro', '𝄞', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(300), 'w'.repeat(70_000), '\ud800 lone']],
  ['a bigint', 2n ** 70n],
  ['binary', new Uint8Array([1, 2, 3])],
  ['typed arrays', [new Float64Array([1.5]), new Int16Array([-1]), new ArrayBuffer(4), new DataView(new ArrayBuffer(2))]],
  ['a Map and a Set', [new Map<unknown, unknown>([[1, 'one'], ['k', { v: 2 }]]), new Set([1, 'two'])]],
  ['a date, an invalid date, a RegExp', [new Date(1_700_000_000_000), new Date(Number.NaN), /a+b/giu]],
  ['an error with a cause', new RangeError('out of range', { cause: new Error('inner') })],
  ['boxed primitives', [new Number(3), new String('s'), new Boolean(false)]],
  ['holes and undefined items', [1, , undefined, 3]], // eslint-disable-line no-sparse-arrays
  ['a property holding undefined', { kept: 1, left: undefined }],
  ['a large binary (its own buffer)', new Uint8Array(200_000).fill(7)],
  ['nested to the limit', nested(MAX_NESTING_DEPTH - 2)],
  ['nested past the limit', nested(MAX_NESTING_DEPTH + 5)],
  ['a function', () => 1],
  ['a function deep inside', { list: [1, { callback: () => 2 }] }],
  ['a symbol', Symbol('s')],
  ['a circular reference', circular],
  ['a circular reference further down', deepCircular],
  ['a getter that throws', throwingGetter],
  ['a class instance with methods', new (class Point { constructor(readonly x = 1) {} norm(): number { return this.x; } })()],
  ['a WeakMap', new WeakMap()],
  ['a promise', Promise.resolve(1)],
];

type Outcome = { readonly bytes: string } | { readonly error: { readonly name: string; readonly code: unknown; readonly message: string } };

function outcome(encode: () => Uint8Array): Outcome {
  try {
    return { bytes: Buffer.from(encode()).toString('hex') };
  } catch (error) {
    const { name, message } = error as Error;
    return { error: { name, code: (error as { code?: unknown }).code, message } };
  }
}

describe('TaskEnvelopeEncoder gives what encodeTaskEnvelope gives', () => {
  const encoder = new TaskEnvelopeEncoder(moduleHash, WIRE_FORMAT_VERSION);
  const variants: ReadonlyArray<readonly [string, { attempt: number; deadline?: number; fileNames?: readonly string[]; maxBytes?: number }]> = [
    ['first attempt', { attempt: 1 }],
    ['a retry with a deadline', { attempt: 3, deadline: 1_800_000_000_123.5 }],
    ['data files', { attempt: 200, fileNames: ['a.bin', 'b.txt'] }],
    ['no data files (an empty list)', { attempt: 1, fileNames: [] }],
    ['a cap of 4 KiB', { attempt: 1, maxBytes: 4096 }],
  ];
  for (const [label, value] of cases) {
    for (const [variant, fields] of variants) {
      it(`${label}, ${variant}`, () => {
        const taskId = `mk3j4k5abc-${label.length}`;
        const general = outcome(() =>
          encodeTaskEnvelope(
            {
              kind: 'tsmw-task',
              version: WIRE_FORMAT_VERSION,
              taskId,
              taskName: 'add',
              moduleHash,
              attempt: fields.attempt,
              input: value,
              ...(fields.deadline === undefined ? {} : { deadline: fields.deadline }),
              ...(fields.fileNames === undefined ? {} : { fileNames: fields.fileNames }),
            },
            fields.maxBytes === undefined ? {} : { maxBytes: fields.maxBytes },
          ),
        );
        const fast = outcome(() => encoder.encode(taskId, 'add', fields.attempt, value, fields.deadline, fields.fileNames, fields.maxBytes));
        expect(fast).toEqual(general);
      });
    }
  }

  it('decodes to the envelope it was given, for every task name it sees', () => {
    for (const taskName of ['add', 'montePi', 'ünïcode-näme', 'add']) {
      const bytes = encoder.encode('id-1', taskName, 2, { a: [1, 'two'] }, undefined, undefined);
      expect(decodeTaskEnvelope(bytes)).toEqual({ kind: 'tsmw-task', version: WIRE_FORMAT_VERSION, taskId: 'id-1', taskName, moduleHash, attempt: 2, input: { a: [1, 'two'] } });
    }
  });

  it('keeps no input after an encoding, nor after a refusal', () => {
    const input = { big: 'x'.repeat(10) };
    encoder.encode('id-2', 'add', 1, input, undefined, undefined);
    expect(() => encoder.encode('id-3', 'add', 1, { f: () => 1 }, undefined, undefined)).toThrow(/input\.f is a function/);
    const pending = (encoder as unknown as { pending: { input: unknown } }).pending;
    expect(pending.input).toBeUndefined();
  });

  it('bytes it returned are not overwritten by later encodings', () => {
    const first = encoder.encode('id-4', 'add', 1, { a: 1 }, undefined, undefined);
    const copy = first.slice();
    for (let index = 0; index < 1000; index += 1) encoder.encode(`id-${index}`, 'add', 1, { a: index, text: 'filler'.repeat(20) }, undefined, undefined);
    expect(first).toEqual(copy);
    expect(decodeValue(first)).toMatchObject({ taskId: 'id-4', input: { a: 1 } });
    expect(encodeValue('unchanged')).toEqual(encodeValue('unchanged'));
  });
});
