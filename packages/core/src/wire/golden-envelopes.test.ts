import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { differenceBetween } from '../../test/structured-values.js';
import {
  decodeResultEnvelope,
  decodeTaskEnvelope,
  encodeResultEnvelope,
  encodeTaskEnvelope,
  type ResultEnvelope,
  type TaskEnvelope,
} from '@tsmw/core';

// Golden bytes: the committed fixtures ARE the wire format. If a change to tsmw alters these
// bytes, this test fails; a deliberate format change needs a new format version, then
// `TSMW_UPDATE_GOLDEN=1 npx vitest run golden` to rewrite the fixtures.
const fixture = (name: string): URL => new URL(`../../test/fixtures/${name}`, import.meta.url);

const taskEnvelope: TaskEnvelope = {
  kind: 'tsmw-task',
  version: 1,
  taskId: 'mwa1b2c3-0',
  taskName: 'pi',
  moduleHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  attempt: 1,
  input: {
    darts: 10_000_000,
    seed: -42,
    ratio: 0.25,
    label: 'héllo 日本 🚀',
    flags: [true, false, null],
    bytes: new Uint8Array([0, 1, 254, 255]),
    nested: { deep: { list: [1, [2, [3]]] } },
    when: new Date(Date.UTC(2026, 10, 25, 12, 0, 0)),
  },
  deadline: 1_795_000_000_000,
  fileNames: ['data.bin'],
};

const okResult: ResultEnvelope = {
  kind: 'tsmw-result',
  version: 1,
  taskId: 'mwa1b2c3-0',
  attempt: 1,
  ok: true,
  output: { hits: 7_853_981, darts: 10_000_000 },
  timing: { startedAt: 1_795_000_000_123, wallMs: 812.5, cpuMs: 810.25 },
  console: [
    { stream: 'stdout', text: 'starting' },
    { stream: 'stderr', text: 'a warning' },
  ],
  host: { hostname: 'volunteer-1', platform: 'linux', arch: 'x64', runtime: 'node 20.20.2' },
};

const errorResult: ResultEnvelope = {
  kind: 'tsmw-result',
  version: 1,
  taskId: 'mwa1b2c3-1',
  attempt: 2,
  ok: false,
  error: {
    name: 'RangeError',
    message: 'darts must be positive',
    code: 'E_DARTS',
    stack: 'RangeError: darts must be positive\n    at pi (tasks.js:3:11)',
    cause: { name: 'TypeError', message: 'not a number' },
    retryable: true,
  },
  timing: { startedAt: 1_795_000_000_456, wallMs: 1, cpuMs: 0.5 },
};

/** An error with a fixed stack, so that its bytes are the same on every machine. */
function errorWithStack<T extends Error>(error: T, stack: string | undefined): T {
  if (stack === undefined) delete error.stack;
  else error.stack = stack;
  return error;
}

// Every value shape MessagePack lacks, in its extension type (see docs/wire-format.md).
const sparse: unknown[] = [undefined, null];
sparse.length = 3; // a hole at the end
const valuesTask: TaskEnvelope = {
  kind: 'tsmw-task',
  version: 1,
  taskId: 'mwa1b2c3-2',
  taskName: 'echo',
  moduleHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  attempt: 1,
  input: {
    undefinedAndHole: sparse,
    map: new Map<unknown, unknown>([
      ['a', 1],
      [2, 'b'],
      [null, [true]],
    ]),
    set: new Set<unknown>(['x', 1]),
    bigints: [10n, -129n, 2n ** 64n],
    typed: [new Float64Array([1.5, -0]), new Int16Array([-2]), new BigUint64Array([2n ** 64n - 1n]), new Uint8ClampedArray([255])],
    buffer: new Uint8Array([1, 2, 3]).buffer,
    view: new DataView(new Uint8Array([4, 5]).buffer),
    numbers: [Number.NaN, -0, Infinity, -Infinity],
    regExp: /t+sm?w/gi,
    error: Object.assign(
      errorWithStack(new RangeError('bad darts', { cause: errorWithStack(new TypeError('not a number'), undefined) }), 'RangeError: bad darts\n    at pi (tasks.js:3:11)'),
      { code: 'E_DARTS' },
    ),
    boxed: [new Number(1), new String('s'), new Boolean(true), Object(5n) as object],
    dates: [new Date(-1_500), new Date(1.5), new Date(Number.NaN)],
    text: 'lone \ud800',
  },
};

const noInputTask: TaskEnvelope = {
  kind: 'tsmw-task',
  version: 1,
  taskId: 'mwa1b2c3-3',
  taskName: 'now',
  moduleHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  attempt: 1,
  input: undefined,
};

const noOutputResult: ResultEnvelope = {
  kind: 'tsmw-result',
  version: 1,
  taskId: 'mwa1b2c3-3',
  attempt: 1,
  ok: true,
  output: undefined,
  timing: { startedAt: 1_795_000_000_789, wallMs: 0.5, cpuMs: 0.5 },
};

const cases = [
  { name: 'task-envelope.msgpack', encode: () => encodeTaskEnvelope(taskEnvelope), decode: decodeTaskEnvelope, value: taskEnvelope },
  { name: 'result-envelope-ok.msgpack', encode: () => encodeResultEnvelope(okResult), decode: decodeResultEnvelope, value: okResult },
  { name: 'result-envelope-error.msgpack', encode: () => encodeResultEnvelope(errorResult), decode: decodeResultEnvelope, value: errorResult },
  { name: 'task-envelope-values.msgpack', encode: () => encodeTaskEnvelope(valuesTask), decode: decodeTaskEnvelope, value: valuesTask },
  { name: 'task-envelope-no-input.msgpack', encode: () => encodeTaskEnvelope(noInputTask), decode: decodeTaskEnvelope, value: noInputTask },
  { name: 'result-envelope-no-output.msgpack', encode: () => encodeResultEnvelope(noOutputResult), decode: decodeResultEnvelope, value: noOutputResult },
] as const;

describe('golden envelope bytes', () => {
  for (const golden of cases) {
    it(`${golden.name}: encoding gives the committed bytes`, () => {
      const bytes = golden.encode();
      if (process.env['TSMW_UPDATE_GOLDEN'] === '1' || !existsSync(fixture(golden.name))) {
        if (process.env['CI'] === 'true') throw new Error(`Golden fixture ${golden.name} is missing`);
        writeFileSync(fixture(golden.name), bytes);
      }
      expect(Buffer.from(bytes).toString('hex')).toBe(readFileSync(fixture(golden.name)).toString('hex'));
    });
    it(`${golden.name}: the committed bytes decode to the envelope, every value with its type`, () => {
      const decoded = golden.decode(new Uint8Array(readFileSync(fixture(golden.name))));
      expect(differenceBetween(decoded, golden.value, 'envelope')).toBeUndefined();
    });
  }

  it('the new shapes use tsmw extension types 1 to 10 and the timestamp, nothing of msgpackr', () => {
    const hex = readFileSync(fixture('task-envelope-values.msgpack')).toString('hex');
    expect(hex).toContain('d40100'); // undefined
    expect(hex).toContain('d40101'); // a hole
    expect(hex).toContain('d4020a'); // 10n
    expect(hex).toContain('d7097ff8000000000000'); // an invalid date
    expect(hex).toContain('c70cff'); // a date before 1970 (timestamp 96)
    for (const msgpackr of ['d473', 'd478', 'd465', 'd442', 'd472', 'd474', 'd400']) expect(hex).not.toContain(msgpackr);
    const noInput = readFileSync(fixture('task-envelope-no-input.msgpack'));
    expect(noInput.includes(Buffer.from('input'))).toBe(false);
    expect(readFileSync(fixture('result-envelope-no-output.msgpack')).includes(Buffer.from('output'))).toBe(false);
  });

  it('is plain MessagePack: a map with string keys, no msgpackr extensions', () => {
    const bytes = readFileSync(fixture('task-envelope.msgpack'));
    expect(bytes[0]! & 0xf0).toBe(0x80); // fixmap
    // 0xd4-0xd8 / 0xc7-0xc9 are ext types; the only one allowed is the timestamp (type -1 = 0xff).
    const hex = bytes.toString('hex');
    expect(hex).not.toContain('d472'); // msgpackr records
    expect(hex.includes('d6ff') || hex.includes('d7ff') || hex.includes('c70cff')).toBe(true); // the date
    expect(bytes.includes(Buffer.from('kind'))).toBe(true);
    expect(bytes.includes(Buffer.from('tsmw-task'))).toBe(true);
  });
});
