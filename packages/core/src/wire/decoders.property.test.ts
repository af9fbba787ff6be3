import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  decodeResultEnvelope,
  decodeTaskEnvelope,
  decodeValue,
  encodeResultEnvelope,
  encodeTaskEnvelope,
  encodeValue,
  TsmwError,
  type ResultEnvelope,
  type TaskEnvelope,
} from '@tsmw/core';
import { asCrossed, differenceBetween, structuredValue } from '../../test/structured-values.js';

// Any byte string given to a decoder ends in a valid envelope or a typed error: never a crash
// of another kind, never a hang. 100,000 inputs per decoder (random bytes, mutated valid
// envelopes holding every value shape, well-formed MessagePack of the wrong shape, and what
// msgpackr writes with its own extensions).
const RUNS = Number(process.env['TSMW_PROPERTY_RUNS'] ?? 100_000);
const decodeCodes = new Set(['TSMW_ENVELOPE_DECODE', 'TSMW_ENVELOPE_TOO_LARGE', 'TSMW_ENVELOPE_VERSION']);

const sampleTask: TaskEnvelope = {
  kind: 'tsmw-task',
  version: 1,
  taskId: 't-1',
  taskName: 'add',
  moduleHash: 'abc123',
  attempt: 1,
  input: { a: 1, b: [2, 'three', new Uint8Array([4])], c: { d: null } },
  deadline: 1_800_000_000_000,
  fileNames: ['x.bin'],
};
const sparse: unknown[] = [1];
sparse[3] = undefined;
/** Every extension type, so that mutations reach each of their readers. */
const shapesTask: TaskEnvelope = {
  ...sampleTask,
  taskId: 't-2',
  input: [
    new Map<unknown, unknown>([[1, new Set([2n ** 70n, -3n])], ['k', sparse]]),
    [new Float64Array([1.5, -0]), new BigInt64Array([-1n]), new DataView(new ArrayBuffer(3)), new ArrayBuffer(2)],
    new RangeError('e', { cause: new TypeError('c') }),
    [/x+/gu, new String('s'), new Number(-0), Object(1n) as object, new Boolean(true)],
    [new Date(-1), new Date(1.5), new Date(Number.NaN), new Date(0), 'lone \ud800', undefined, Number.NaN],
  ],
};
const sampleResults: ResultEnvelope[] = [
  {
    kind: 'tsmw-result',
    version: 1,
    taskId: 't-1',
    attempt: 1,
    ok: true,
    output: [1, 'two', { three: 3 }],
    timing: { startedAt: 1, wallMs: 2, cpuMs: 3 },
    console: [{ stream: 'stdout', text: 'hi' }],
    host: { hostname: 'h' },
  },
  {
    kind: 'tsmw-result',
    version: 1,
    taskId: 't-2',
    attempt: 3,
    ok: false,
    error: { name: 'Error', message: 'boom', code: 'E', stack: 'at x', cause: { name: 'TypeError', message: 'inner' } },
    timing: { startedAt: 1, wallMs: 2, cpuMs: 3 },
  },
];

/** Mutations of valid bytes: flipped, truncated, extended, spliced. */
function mutated(valid: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      fc.constantFrom(...valid),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert', 'delete')), { minLength: 1, maxLength: 6 }),
    )
    .map(([base, edits]) => {
      let bytes = Array.from(base);
      for (const [position, value, kind] of edits) {
        const at = bytes.length === 0 ? 0 : position % bytes.length;
        if (kind === 'flip') bytes[at] = value;
        else if (kind === 'cut') bytes = bytes.slice(0, at);
        else if (kind === 'insert') bytes.splice(at, 0, value);
        else bytes.splice(at, 1);
      }
      return new Uint8Array(bytes);
    });
}

const otherPackr = new Packr({ useRecords: false });
/** msgpackr with every extension of its own turned on: records, bundles, structured clones, typed arrays, sets, errors, regular expressions. */
const msgpackrPackr = new Packr({ moreTypes: true, structuredClone: true, bundleStrings: true, useRecords: true, encodeUndefinedAsNil: false, useBigIntExtension: true } as ConstructorParameters<typeof Packr>[0]);
/** Well-formed MessagePack of arbitrary values, including maps that look almost like envelopes. */
const wellFormed = fc
  .oneof(
    fc.anything({ withBigInt: false, withTypedArray: true, withDate: true, withMap: false, withSet: false }),
    fc.record({ kind: fc.oneof(fc.constantFrom('tsmw-task', 'tsmw-result', 'x'), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), version: fc.oneof(fc.constant(1), fc.integer(), fc.string(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), taskId: fc.anything(), attempt: fc.anything(), ok: fc.anything(), timing: fc.anything(), error: fc.anything(), output: fc.anything(), input: fc.anything() }, { requiredKeys: [] }),
  )
  .map((value) => new Uint8Array(otherPackr.pack(value)));
/** What msgpackr writes with its extensions, inside envelope-like maps: every one must be refused or read as tsmw would. */
const msgpackrExtensions = fc
  .tuple(
    fc.constantFrom('tsmw-task', 'tsmw-result'),
    fc.oneof(
      fc.anything({ maxDepth: 2, withBigInt: true, withMap: true, withSet: true, withDate: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true }),
      fc.constantFrom(new Error('e'), /x/g, undefined, [undefined], 2n ** 80n, new Float64Array([1])),
    ),
  )
  .map(([kind, value]) => new Uint8Array(msgpackrPackr.pack({ kind, version: 1, taskId: 't', taskName: 'x', moduleHash: 'h', attempt: 1, ok: true, timing: { startedAt: 1, wallMs: 1, cpuMs: 1 }, input: value, output: value })));

function bytesArbitrary(valid: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { arbitrary: fc.uint8Array({ maxLength: 300 }), weight: 3 },
    { arbitrary: mutated(valid), weight: 3 },
    { arbitrary: wellFormed, weight: 3 },
    { arbitrary: msgpackrExtensions, weight: 1 },
  );
}

function checkDecoder(decode: (bytes: Uint8Array) => unknown, valid: Uint8Array[]): void {
  fc.assert(
    fc.property(bytesArbitrary(valid), (bytes) => {
      try {
        const envelope = decode(bytes) as { kind: string; version: number; taskId: string };
        expect(envelope.version).toBe(1);
        expect(typeof envelope.taskId).toBe('string');
      } catch (error) {
        if (!TsmwError.isInstance(error) || !decodeCodes.has(error.code)) throw error;
      }
    }),
    { numRuns: RUNS },
  );
}

describe('decoders never crash on hostile bytes', () => {
  it(`decodeTaskEnvelope: ${RUNS} random and mutated inputs`, () => {
    checkDecoder(decodeTaskEnvelope, [encodeTaskEnvelope(sampleTask), encodeTaskEnvelope(shapesTask).slice()]);
  }, 300_000);

  it(`decodeResultEnvelope: ${RUNS} random and mutated inputs`, () => {
    checkDecoder(decodeResultEnvelope, [...sampleResults.map((result) => encodeResultEnvelope(result)), encodeResultEnvelope({ ...sampleResults[0]!, output: shapesTask.input } as ResultEnvelope).slice()]);
  }, 300_000);

  it('refuses input over the cap before reading it', () => {
    const bytes = encodeTaskEnvelope(sampleTask);
    expect(() => decodeTaskEnvelope(bytes, { maxBytes: bytes.byteLength - 1 })).toThrow(
      expect.objectContaining({ code: 'TSMW_ENVELOPE_TOO_LARGE', byteLength: bytes.byteLength }),
    );
  });

  it('refuses another format version with UnsupportedEnvelopeVersionError', () => {
    const bytes = new Uint8Array(otherPackr.pack({ ...sampleTask, version: 2 }));
    expect(() => decodeTaskEnvelope(bytes)).toThrow(expect.objectContaining({ code: 'TSMW_ENVELOPE_VERSION', version: 2 }));
  });

  it('refuses a version or kind of any type, a bigint among them (found by this fuzzer at run 740,583)', () => {
    // The version field as an int64 (0xd3) that decodes to a bigint.
    const bigintVersion = new Uint8Array([0x82, 0xa7, ...Buffer.from('version'), 0xd3, 1, 1, 0, 0, 0, 0, 0, 0, 0xa4, ...Buffer.from('kind'), 0xa9, ...Buffer.from('tsmw-task')]);
    expect(() => decodeTaskEnvelope(bigintVersion)).toThrow(expect.objectContaining({ code: 'TSMW_ENVELOPE_VERSION' }));
    const bigintKind = new Uint8Array([0x82, 0xa7, ...Buffer.from('version'), 0x01, 0xa4, ...Buffer.from('kind'), 0xd3, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(() => decodeResultEnvelope(bigintKind)).toThrow(expect.objectContaining({ code: 'TSMW_ENVELOPE_DECODE' }));
  });

  it('refuses a result envelope given to the task decoder', () => {
    expect(() => decodeTaskEnvelope(encodeResultEnvelope(sampleResults[0]!))).toThrow(expect.objectContaining({ code: 'TSMW_ENVELOPE_DECODE' }));
  });

  it('refuses nesting deep enough to overflow the stack, with a typed error', () => {
    const depth = 200_000;
    const bytes = new Uint8Array(depth + 1).fill(0x91); // array of array of ...
    bytes[depth] = 0xc0;
    expect(() => decodeTaskEnvelope(bytes)).toThrow(expect.objectContaining({ code: 'TSMW_ENVELOPE_DECODE' }));
  });

  it('refuses a huge declared length without allocating it', () => {
    const bytes = new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]); // array32 of 4 billion items
    expect(() => decodeTaskEnvelope(bytes)).toThrow(expect.objectContaining({ code: 'TSMW_ENVELOPE_DECODE' }));
  });
});

describe('round trip', () => {
  it('a key named __proto__ never reaches a prototype: it arrives as an own property', () => {
    const hostile = new Uint8Array(otherPackr.pack(JSON.parse('{"kind":"tsmw-task","version":1,"taskId":"t","taskName":"x","moduleHash":"h","attempt":1,"input":{"__proto__":{"polluted":true}}}')));
    const decoded = decodeTaskEnvelope(hostile);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(decoded.input)).toBe(Object.prototype);
    expect((decoded.input as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(decoded.input as object)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(decoded.input, '__proto__')?.value).toEqual({ polluted: true });
  });

  it('any JSON-like input with binaries survives encode and decode exactly (-0 and __proto__ keys too)', () => {
    const json = fc.jsonValue();
    const input = fc.oneof(json, fc.uint8Array(), fc.array(fc.oneof(json, fc.uint8Array())));
    fc.assert(
      fc.property(input, fc.string(), fc.integer({ min: 1, max: 1000 }), (value, taskId, attempt) => {
        const envelope: TaskEnvelope = { kind: 'tsmw-task', version: 1, taskId, taskName: 'echo', moduleHash: 'h', attempt, input: value };
        const decoded = decodeTaskEnvelope(encodeTaskEnvelope(envelope));
        expect(decoded.taskId).toBe(taskId);
        expect(decoded.attempt).toBe(attempt);
        expect(differenceBetween(decoded.input, asCrossed(structuredClone(value)), 'input')).toBeUndefined();
      }),
      { numRuns: Number(process.env['TSMW_ROUND_TRIP_RUNS'] ?? 2_000) },
    );
  });

  // Every value structuredClone accepts comes back as structuredClone copies it (but for object
  // properties holding undefined, which are left out), with its type: Maps, Sets, bigints, every
  // typed array, holes, undefined, -0, NaN, dates (invalid too), regular expressions, errors,
  // boxed primitives, lone surrogates. Then the same bytes, mutated, never crash the decoder.
  const STRUCTURED_RUNS = Number(process.env['TSMW_STRUCTURED_RUNS'] ?? 10_000);
  it(`${STRUCTURED_RUNS} generated structured-clone values round-trip with their types`, () => {
    fc.assert(
      fc.property(structuredValue, (value) => {
        const expected = asCrossed(structuredClone(value));
        const crossed = decodeValue(encodeValue(value));
        const difference = differenceBetween(crossed, expected);
        if (difference !== undefined) throw new Error(difference);
      }),
      { numRuns: STRUCTURED_RUNS },
    );
  }, 300_000);

  it(`${STRUCTURED_RUNS} mutated encodings of generated values decode or fail with EnvelopeDecodeError`, () => {
    fc.assert(
      fc.property(structuredValue, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (value, edits) => {
        const bytes = encodeValue(value).slice();
        for (const [position, byte] of edits) bytes[position % bytes.length] = byte;
        try {
          decodeValue(bytes);
        } catch (error) {
          if (!TsmwError.isInstance(error) || error.code !== 'TSMW_ENVELOPE_DECODE') throw error;
        }
      }),
      { numRuns: STRUCTURED_RUNS },
    );
  }, 300_000);
});
