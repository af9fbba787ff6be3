import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  decodeResultEnvelope,
  decodeTaskEnvelope,
  encodeResultEnvelope,
  encodeTaskEnvelope,
  TsmwError,
  type ResultEnvelope,
  type TaskEnvelope,
} from '@tsmw/core';

// Any byte string given to a decoder ends in a valid envelope or a typed error: never a crash
// of another kind, never a hang. 100,000 inputs per decoder (random bytes, mutated valid
// envelopes, and well-formed MessagePack of the wrong shape).
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
/** Well-formed MessagePack of arbitrary values, including maps that look almost like envelopes. */
const wellFormed = fc
  .oneof(
    fc.anything({ withBigInt: false, withTypedArray: true, withDate: true, withMap: false, withSet: false }),
    fc.record({ kind: fc.oneof(fc.constantFrom('tsmw-task', 'tsmw-result', 'x'), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), version: fc.oneof(fc.constant(1), fc.integer(), fc.string(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), taskId: fc.anything(), attempt: fc.anything(), ok: fc.anything(), timing: fc.anything(), error: fc.anything(), output: fc.anything(), input: fc.anything() }, { requiredKeys: [] }),
  )
  .map((value) => new Uint8Array(otherPackr.pack(value)));

function bytesArbitrary(valid: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated(valid), wellFormed);
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
    checkDecoder(decodeTaskEnvelope, [encodeTaskEnvelope(sampleTask)]);
  }, 300_000);

  it(`decodeResultEnvelope: ${RUNS} random and mutated inputs`, () => {
    checkDecoder(decodeResultEnvelope, sampleResults.map((result) => encodeResultEnvelope(result)));
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
  it('a key named __proto__ never reaches a prototype: it is decoded as "__proto_"', () => {
    const hostile = new Uint8Array(otherPackr.pack(JSON.parse('{"kind":"tsmw-task","version":1,"taskId":"t","taskName":"x","moduleHash":"h","attempt":1,"input":{"__proto__":{"polluted":true}}}')));
    const decoded = decodeTaskEnvelope(hostile);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf(decoded.input)).toBe(Object.prototype);
    expect((decoded.input as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(decoded.input as object)).toEqual(['__proto_']);
  });

  it('any JSON-like input with binaries survives encode and decode (but for keys named __proto__)', () => {
    const json = fc.jsonValue().filter((value) => !JSON.stringify(value).includes('"__proto__"'));
    const input = fc.oneof(json, fc.uint8Array(), fc.array(fc.oneof(json, fc.uint8Array())));
    fc.assert(
      fc.property(input, fc.string(), fc.integer({ min: 1, max: 1000 }), (value, taskId, attempt) => {
        const envelope: TaskEnvelope = { kind: 'tsmw-task', version: 1, taskId, taskName: 'echo', moduleHash: 'h', attempt, input: value };
        const decoded = decodeTaskEnvelope(encodeTaskEnvelope(envelope));
        expect(decoded.taskId).toBe(taskId);
        expect(decoded.attempt).toBe(attempt);
        // -0 becomes 0 in MessagePack integers: compare as JSON does.
        expect(normalize(decoded.input)).toEqual(normalize(value));
      }),
      { numRuns: Number(process.env['TSMW_ROUND_TRIP_RUNS'] ?? 2_000) },
    );
  });
});

function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === 'number' && Object.is(value, -0)) return 0;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined).map(([key, item]) => [key, normalize(item)]));
  }
  return value;
}
