import { describe, expect, it } from 'vitest';
import { decodeResultEnvelope, decodeTaskEnvelope, decodeValue, encodeResultEnvelope, encodeTaskEnvelope, encodeValue, MAX_NESTING_DEPTH, WIRE_FORMAT_VERSION, type ResultEnvelope } from '@tsmw/core';
import { readCanonicalResult } from './decode-value.js';
import { canonicalLayout, decodeResultEnvelopeInGeneral, decodeResultEnvelopeOf } from './result-envelope.js';
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

  it('an input whose getter encodes another envelope meanwhile (a getter that submits) keeps its own fields', () => {
    const inner: Uint8Array[] = [];
    const input = {
      get value(): number {
        inner.push(encoder.encode('inner-id', 'other', 5, { x: 1 }, 99, ['inner.bin']));
        return 7;
      },
    };
    const outer = encoder.encode('outer-id', 'add', 2, input, 1234, ['outer.bin']);
    expect(decodeTaskEnvelope(outer)).toEqual({ kind: 'tsmw-task', version: WIRE_FORMAT_VERSION, taskId: 'outer-id', taskName: 'add', moduleHash, attempt: 2, input: { value: 7 }, deadline: 1234, fileNames: ['outer.bin'] });
    expect(decodeTaskEnvelope(inner[0]!)).toEqual({ kind: 'tsmw-task', version: WIRE_FORMAT_VERSION, taskId: 'inner-id', taskName: 'other', moduleHash, attempt: 5, input: { x: 1 }, deadline: 99, fileNames: ['inner.bin'] });
    expect(encoder.encode('after', 'add', 1, 3, undefined, undefined)).toEqual(
      encodeTaskEnvelope({ kind: 'tsmw-task', version: WIRE_FORMAT_VERSION, taskId: 'after', taskName: 'add', moduleHash, attempt: 1, input: 3 }),
    );
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

/** The result envelope as the general encoder writes it: one plain object, encoded as a value. */
function referenceResultBytes(envelope: ResultEnvelope, maxBytes?: number): Uint8Array {
  const wire: Record<string, unknown> = { kind: 'tsmw-result', version: envelope.version, taskId: envelope.taskId, attempt: envelope.attempt, ok: envelope.ok };
  if (envelope.ok) wire['output'] = envelope.output;
  else wire['error'] = envelope.error;
  wire['timing'] = { startedAt: envelope.timing.startedAt, wallMs: envelope.timing.wallMs, cpuMs: envelope.timing.cpuMs };
  if (envelope.console !== undefined && envelope.console.length > 0) wire['console'] = envelope.console;
  if (envelope.host !== undefined) wire['host'] = envelope.host;
  return encodeValue(wire, maxBytes, 'result envelope', '');
}

describe('encodeResultEnvelope gives the bytes and errors of the envelope encoded as one plain map', () => {
  const timing = { startedAt: 1_700_000_000_123, wallMs: 0.0123, cpuMs: 0 };
  const variants: ReadonlyArray<readonly [string, (output: unknown) => ResultEnvelope, number | undefined]> = [
    ['ok', (output) => ({ kind: 'tsmw-result', version: WIRE_FORMAT_VERSION, taskId: 't-1', attempt: 1, ok: true, output, timing }), undefined],
    [
      'ok with console and host',
      (output) => ({
        kind: 'tsmw-result',
        version: WIRE_FORMAT_VERSION,
        taskId: 't-2',
        attempt: 3,
        ok: true,
        output,
        timing: { startedAt: 1, wallMs: 2.5, cpuMs: 70_000 },
        console: [{ stream: 'stdout', text: 'printed' }, { stream: 'stderr', text: 'é' }],
        host: { hostname: 'h', platform: 'linux' },
      }),
      undefined,
    ],
    ['ok with an empty console', (output) => ({ kind: 'tsmw-result', version: WIRE_FORMAT_VERSION, taskId: '', attempt: 1, ok: true, output, timing, console: [] }), undefined],
    [
      'failed (the value as the error data)',
      (output) => ({ kind: 'tsmw-result', version: WIRE_FORMAT_VERSION, taskId: 't-3', attempt: 2, ok: false, error: output as never, timing }),
      undefined,
    ],
    ['a cap of 4 KiB', (output) => ({ kind: 'tsmw-result', version: WIRE_FORMAT_VERSION, taskId: 't-4', attempt: 1, ok: true, output, timing }), 4096],
  ];
  for (const [label, value] of cases) {
    for (const [variant, make, maxBytes] of variants) {
      it(`${label}, ${variant}`, () => {
        const envelope = make(value);
        const options = maxBytes === undefined ? {} : { maxBytes };
        expect(outcome(() => encodeResultEnvelope(envelope, options))).toEqual(outcome(() => referenceResultBytes(envelope, maxBytes)));
      });
    }
  }

  it('timing fields that are not numbers are written as the general encoder writes them', () => {
    const envelope = { kind: 'tsmw-result', version: 1, taskId: 't', attempt: 1, ok: true, output: 1, timing: { startedAt: 1, wallMs: undefined, cpuMs: 2n } } as unknown as ResultEnvelope;
    expect(outcome(() => encodeResultEnvelope(envelope))).toEqual(outcome(() => referenceResultBytes(envelope)));
    const refused = { ...envelope, timing: { startedAt: 1, wallMs: () => 1, cpuMs: 0 } } as unknown as ResultEnvelope;
    expect(outcome(() => encodeResultEnvelope(refused))).toEqual(outcome(() => referenceResultBytes(refused)));
    expect(outcome(() => encodeResultEnvelope(refused))).toMatchObject({ error: { message: expect.stringContaining('timing.wallMs') } });
  });

  it('decodes to what it was given', () => {
    const envelope: ResultEnvelope = { kind: 'tsmw-result', version: 1, taskId: 'id', attempt: 2, ok: true, output: { list: [1, 'two'] }, timing: { startedAt: 5, wallMs: 1.5, cpuMs: 1 } };
    expect(decodeResultEnvelope(encodeResultEnvelope(envelope))).toEqual(envelope);
  });
});

describe('decodeResultEnvelope: the fast path gives what the general path gives', () => {
  const timing = { startedAt: 1_700_000_000_123, wallMs: 0.0123, cpuMs: 0 };
  const ok = (output: unknown, taskId = 'mk3j4k5abc-1z'): Uint8Array =>
    encodeResultEnvelope({ kind: 'tsmw-result', version: WIRE_FORMAT_VERSION, taskId, attempt: 2, ok: true, output, timing }).slice();
  const edited = (bytes: Uint8Array, edit: (copy: Uint8Array) => void): Uint8Array => {
    const copy = bytes.slice();
    edit(copy);
    return copy;
  };
  const at = (bytes: Uint8Array, text: string): number => Buffer.from(bytes).indexOf(text);
  const encodingCases: ReadonlyArray<readonly [string, Uint8Array]> = [
    ...cases.filter(([, value]) => outcome(() => ok(value)) && !('error' in outcome(() => ok(value)))).map(([label, value]) => [`output: ${label}`, ok(value)] as const),
    ['no output (undefined)', ok(undefined)],
    ['another task id than expected', ok(1, 'other-id')],
    ['a task id of non-ASCII text', ok(1, 'tâche-1')],
    ['an empty task id', ok(1, '')],
    ['a failure', encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId: 'mk3j4k5abc-1z', attempt: 1, ok: false, error: { name: 'Error', message: 'no' }, timing }).slice()],
    ['with console lines', encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId: 'mk3j4k5abc-1z', attempt: 1, ok: true, output: 1, timing, console: [{ stream: 'stdout', text: 'x' }] }).slice()],
    ['with a host', encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId: 'mk3j4k5abc-1z', attempt: 1, ok: true, output: 1, timing, host: { hostname: 'h' } }).slice()],
    ['version 2', edited(ok(1), (copy) => (copy[at(copy, 'version') + 7] = 2))],
    ['another kind', edited(ok(1), (copy) => (copy[at(copy, 'tsmw-result') + 5] = 0x52))],
    ['attempt 0', edited(ok(1), (copy) => (copy[at(copy, 'attempt') + 7] = 0))],
    ['ok false without an error', edited(ok(1), (copy) => (copy[at(copy, 'ok') + 2] = 0xc2))],
    ['a timing field that is not a number', edited(ok(1), (copy) => (copy[at(copy, 'cpuMs') + 5] = 0xc0))],
    ['cut short', ok({ a: [1, 2, 3] }).subarray(0, 40)],
    ['a byte too many', new Uint8Array([...ok(1), 0xc0])],
    ['the map header says 9 fields', edited(ok(1), (copy) => (copy[0] = 0x89))],
    ['a msgpackr record extension in the output', edited(ok(new Uint8Array([1])), (copy) => (copy[at(copy, 'output') + 6] = 0xd4))],
    ['not a map', encodeValue([1, 2, 3]).slice()],
    ['empty', new Uint8Array(0)],
  ];
  for (const [label, bytes] of encodingCases) {
    for (const expectedTaskId of ['mk3j4k5abc-1z', undefined]) {
      it(`${label}${expectedTaskId === undefined ? ', no task id expected' : ''}`, () => {
        const decode = (run: () => unknown): unknown => {
          try {
            return { value: run() };
          } catch (error) {
            return { error: { name: (error as Error).name, message: (error as Error).message } };
          }
        };
        const general = decode(() => decodeResultEnvelopeInGeneral(bytes, 1024 * 1024));
        expect(decode(() => decodeResultEnvelopeOf(bytes, 1024 * 1024, expectedTaskId))).toEqual(general);
        // The same bytes as a view into a larger buffer (as results of a batch arrive).
        const buffer = new Uint8Array(bytes.length + 10);
        buffer.set(bytes, 7);
        expect(decode(() => decodeResultEnvelopeOf(buffer.subarray(7, 7 + bytes.length), 1024 * 1024, expectedTaskId))).toEqual(general);
        expect(decode(() => decodeResultEnvelope(bytes))).toEqual(general);
      });
    }
  }

  it('takes the fast path for what tsmw writes, and only for that', () => {
    for (const [label, value] of cases) {
      if ('error' in outcome(() => ok(value))) continue;
      expect(readCanonicalResult(ok(value), canonicalLayout, 'mk3j4k5abc-1z'), label).toBeDefined();
    }
    expect(readCanonicalResult(ok(undefined), canonicalLayout, undefined)).toBeDefined();
    for (const [label, bytes] of encodingCases.slice(-13)) expect(readCanonicalResult(bytes, canonicalLayout, 'mk3j4k5abc-1z'), label).toBeUndefined();
  });

  it('a task id of bytes that are not UTF-8 is not taken for the expected id of those character codes', () => {
    // The expected id "é" (U+00E9) and a task id of the single byte 0xe9 (invalid UTF-8).
    const bytes = edited(ok(1, 'x'), (copy) => (copy[at(copy, 'taskId') + 7] = 0xe9));
    const general = decodeResultEnvelopeInGeneral(bytes, 1024 * 1024);
    expect(general.taskId).toBe('\ufffd');
    expect(decodeResultEnvelopeOf(bytes, 1024 * 1024, '\u00e9')).toEqual(general);
  });

  it('a cap below the size is refused on both paths alike', () => {
    const bytes = ok('x'.repeat(100));
    expect(() => decodeResultEnvelopeOf(bytes, 50, 'mk3j4k5abc-1z')).toThrow(/50/);
    expect(() => decodeResultEnvelopeInGeneral(bytes, 50)).toThrow(/50/);
  });
});
