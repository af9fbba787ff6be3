import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  decodeResultEnvelope,
  decodeTaskEnvelope,
  decodeValue,
  encodeResultEnvelope,
  encodeTaskEnvelope,
  encodeValue,
  EnvelopeDecodeError,
  EnvelopeTooLargeError,
  InvalidArgumentError,
  MAX_NESTING_DEPTH,
  UnsupportedValueError,
  type TaskEnvelope,
} from '@tsmw/core';
import { asCrossed, differenceBetween } from '../../test/structured-values.js';

const roundTrip = (value: unknown): unknown => decodeValue(encodeValue(value));

/** The value as it crosses: what structuredClone makes of it, with undefined properties left out. */
function expectCrossesAsStructuredClone(value: unknown): unknown {
  const crossed = roundTrip(value);
  expect(differenceBetween(crossed, asCrossed(structuredClone(value)))).toBeUndefined();
  return crossed;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function refusal(value: unknown, root = 'input'): UnsupportedValueError {
  try {
    encodeValue(value, undefined, 'task envelope', root);
  } catch (error) {
    expect(UnsupportedValueError.isInstance(error)).toBe(true);
    return error as UnsupportedValueError;
  }
  throw new Error('the value was not refused');
}

describe('values cross with their type', () => {
  it('undefined at the top level, as array items, Map keys and values and Set members; left out of objects', () => {
    expect(roundTrip(undefined)).toBeUndefined();
    expect(hex(encodeValue(undefined))).toBe('d40100');
    const list = roundTrip([1, undefined, 3]) as unknown[];
    expect(list).toStrictEqual([1, undefined, 3]);
    expect(1 in list).toBe(true);
    const map = roundTrip(new Map([[undefined, undefined]])) as Map<unknown, unknown>;
    expect([...map]).toStrictEqual([[undefined, undefined]]);
    expect([...(roundTrip(new Set([undefined, null])) as Set<unknown>)]).toStrictEqual([undefined, null]);
    expect(roundTrip({ kept: 1, dropped: undefined })).toStrictEqual({ kept: 1 });
    // The header is sized for every key; leaving keys out below 16 keeps the smallest header.
    const wide = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`k${index}`, index % 2 === 0 ? index : undefined]));
    expect(encodeValue(wide)[0]).toBe(0x8a);
    expect(roundTrip(wide)).toStrictEqual(Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`k${index * 2}`, index * 2])));
  });

  it('object keys and Map entries keep their order', () => {
    expect(Object.keys(roundTrip({ z: 1, a: 2, m: 3, 10: 4, 2: 5 }) as object)).toEqual(['2', '10', 'z', 'a', 'm']);
    expect([...(roundTrip(new Map([['z', 1], ['a', 2]])) as Map<string, number>).keys()]).toEqual(['z', 'a']);
  });

  it('array holes stay holes', () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [1, , 3];
    const crossed = expectCrossesAsStructuredClone(sparse) as unknown[];
    expect(1 in crossed).toBe(false);
    expect(hex(encodeValue(sparse))).toBe('9301d4010103');
    const wide: unknown[] = [];
    wide[5] = 'x';
    expect(Object.keys(roundTrip(wide) as unknown[])).toEqual(['5']);
  });

  it('Maps with keys of any type, in order, and Sets', () => {
    const map = new Map<unknown, unknown>([
      ['a', 1],
      [1, 'one'],
      [{ nested: true }, [1, 2]],
      [10n, new Set([1, 'x'])],
      [null, new Map([[true, false]])],
    ]);
    const crossed = expectCrossesAsStructuredClone(map) as Map<unknown, unknown>;
    expect(crossed).toBeInstanceOf(Map);
    expect(crossed.get('a')).toBe(1);
    expect(crossed.get(1)).toBe('one');
    expect(hex(encodeValue(new Map([['a', 1]])))).toBe('d60381a16101'); // fixext 4, type 3, {"a": 1}
    expect(hex(encodeValue(new Set([1, 2])))).toBe('c70304920102'); // ext 8, 3 bytes, type 4, [1, 2]
    expect(expectCrossesAsStructuredClone(new Set())).toBeInstanceOf(Set);
    expect(expectCrossesAsStructuredClone(new Map())).toBeInstanceOf(Map);
  });

  it('BigInts of any size stay bigints', () => {
    const values = [0n, 1n, -1n, 10n, 127n, 128n, -128n, -129n, 255n, 256n, 2n ** 31n, -(2n ** 31n), 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 63n, 2n ** 64n, -(2n ** 64n) - 1n, 7n ** 500n, -(3n ** 1000n)];
    for (const value of values) expect(roundTrip(value)).toBe(value);
    expect(hex(encodeValue(10n))).toBe('d4020a');
    expect(hex(encodeValue(-1n))).toBe('d402ff');
    expect(hex(encodeValue(128n))).toBe('d5020080');
    expect(hex(encodeValue(-129n))).toBe('d502ff7f');
    expect(hex(encodeValue(2n ** 64n))).toBe('c70902010000000000000000');
    expect(roundTrip({ n: 10n })).toStrictEqual({ n: 10n });
  });

  it('every typed array keeps its kind, ArrayBuffers and DataViews theirs; Uint8Array and Buffer are bin', () => {
    const views = [
      new Int8Array([-1, 2]),
      new Uint8ClampedArray([0, 255]),
      new Int16Array([-2, 300]),
      new Uint16Array([65_535]),
      new Int32Array([-5, 1 << 30]),
      new Uint32Array([2 ** 32 - 1]),
      new Float32Array([1.5, Number.NaN]),
      new Float64Array([1.5, -0, Infinity]),
      new BigInt64Array([-5n, 2n ** 62n]),
      new BigUint64Array([2n ** 64n - 1n]),
      new Uint8Array([1, 2]),
    ];
    for (const view of views) {
      const crossed = expectCrossesAsStructuredClone(view) as ArrayBufferView;
      expect(crossed.constructor).toBe(view.constructor);
    }
    expect(hex(encodeValue(new Float64Array([1.5])))).toBe('c7090509' + '000000000000f83f'); // ext 8, 9 bytes, type 5, kind 9, 1.5 little-endian
    expect(hex(encodeValue(new Uint8Array([1, 2])))).toBe('c4020102');
    const fromBuffer = roundTrip(Buffer.from('hi'));
    expect(Buffer.isBuffer(fromBuffer)).toBe(false);
    expect(fromBuffer).toStrictEqual(new Uint8Array([104, 105]));
    // Bytes read from a file are a Buffer: what they hold still decodes to plain Uint8Arrays.
    expect((decodeValue(Buffer.from(encodeValue({ bytes: new Uint8Array([1]) }))) as { bytes: Uint8Array }).bytes.constructor).toBe(Uint8Array);
    const buffer = expectCrossesAsStructuredClone(new Uint8Array([7, 8, 9]).buffer);
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    const dataView = expectCrossesAsStructuredClone(new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2)) as DataView;
    expect(dataView).toBeInstanceOf(DataView);
    expect([dataView.byteOffset, dataView.byteLength, dataView.getUint8(0)]).toEqual([0, 2, 2]);
    // A view into part of a buffer sends only its own bytes.
    const part = new Float64Array(new Float64Array([1, 2, 3, 4]).buffer, 8, 2);
    const crossed = roundTrip(part) as Float64Array;
    expect([...crossed]).toEqual([2, 3]);
    expect(crossed.buffer.byteLength).toBe(16);
  });

  it('Float16Array where the runtime has it (Node 24), and a clear refusal to decode one where it has not', () => {
    const Float16 = (globalThis as { Float16Array?: new (values: number[]) => ArrayBufferView }).Float16Array;
    const bytes = new Uint8Array([0xc7, 0x03, 0x05, 0x0c, 0x00, 0x3e]); // ext 8, kind 12: 1.5 as a half-precision float
    if (Float16 === undefined) {
      expect(() => decodeValue(bytes)).toThrow(/this runtime has no Float16Array/);
      return;
    }
    const value = new Float16([1.5, -0]);
    const crossed = roundTrip(value) as ArrayBufferView;
    expect(crossed.constructor).toBe(Float16);
    expect(differenceBetween(crossed, value)).toBeUndefined();
    expect(Array.from(decodeValue(bytes) as ArrayLike<number>)).toEqual([1.5]);
  });

  it('NaN, -0 and the infinities', () => {
    const crossed = roundTrip([Number.NaN, -0, 0, Infinity, -Infinity, 2 ** 40, -(2 ** 40), 0.1]) as number[];
    expect(crossed).toStrictEqual([Number.NaN, -0, 0, Infinity, -Infinity, 2 ** 40, -(2 ** 40), 0.1]);
    expect(Object.is(crossed[1], -0)).toBe(true);
    expect(hex(encodeValue(-0))).toBe('cb8000000000000000');
  });

  it('regular expressions keep source and flags; lastIndex starts again at 0, as structuredClone does', () => {
    const pattern = /(?<word>\w+)\s/giu;
    pattern.lastIndex = 5;
    const crossed = expectCrossesAsStructuredClone(pattern) as RegExp;
    expect(crossed).toBeInstanceOf(RegExp);
    expect([crossed.source, crossed.flags, crossed.lastIndex]).toEqual([pattern.source, 'giu', 0]);
    expect(hex(encodeValue(/a/g))).toBe('c70506' + '92a161a167'); // ext 8, 5 bytes, type 6, ["a", "g"]
  });

  it('errors keep class (by name), message, stack, cause, errors and their own properties', () => {
    for (const Constructor of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
      const crossed = expectCrossesAsStructuredClone(new Constructor('m', { cause: { detail: [1, 2] } })) as Error;
      expect(crossed).toBeInstanceOf(Constructor);
    }
    const coded = Object.assign(new RangeError('bad darts'), { code: 'E_DARTS', retryable: true, skipped: undefined });
    const crossed = roundTrip(coded) as RangeError & Record<string, unknown>;
    expect(crossed).toBeInstanceOf(RangeError);
    expect([crossed.name, crossed.message, crossed.stack, crossed['code'], crossed['retryable']]).toEqual(['RangeError', 'bad darts', coded.stack, 'E_DARTS', true]);
    expect('skipped' in crossed).toBe(false);
    expect(Object.hasOwn(crossed, 'cause')).toBe(false);

    class NotFoundError extends Error {
      override name = 'NotFoundError';
      status = 404;
      describe(): string {
        return `${this.name}: ${this.message}`;
      }
    }
    const custom = roundTrip(new NotFoundError('no such thing')) as Error & { status?: number };
    expect(custom).toBeInstanceOf(Error);
    expect([custom.name, custom.message, custom.status]).toEqual(['NotFoundError', 'no such thing', 404]);

    const aggregate = roundTrip(new AggregateError([new TypeError('first'), 'second'], 'both failed')) as AggregateError;
    expect(aggregate).toBeInstanceOf(AggregateError);
    expect(aggregate.errors[0]).toBeInstanceOf(TypeError);
    expect(aggregate.errors[1]).toBe('second');

    const undefinedCause = roundTrip(new Error('x', { cause: undefined })) as Error;
    expect(Object.hasOwn(undefinedCause, 'cause')).toBe(true);
    const noStack = new Error('no stack');
    delete noStack.stack;
    expect((roundTrip(noStack) as Error).stack).toBeUndefined();
    const chained = roundTrip(new Error('outer', { cause: new TypeError('inner', { cause: 42n }) })) as Error;
    expect(((chained.cause as Error).cause as bigint)).toBe(42n);
  });

  it('boxed primitives stay boxed', () => {
    for (const box of [new Number(-0), new Number(Number.NaN), new String('s'), new Boolean(false), Object(10n) as object]) {
      const crossed = expectCrossesAsStructuredClone(box);
      expect(typeof crossed).toBe('object');
    }
  });

  it('dates in all three timestamp forms, and invalid dates', () => {
    const dates = [new Date(0), new Date(1_000), new Date(1.5), new Date(-1_500), new Date(Date.UTC(2026, 10, 25)), new Date(Date.UTC(2600, 0, 1, 0, 0, 0, 1)), new Date(8.64e15), new Date(-8.64e15), new Date(Number.NaN)];
    for (const date of dates) expect(Object.is((roundTrip(date) as Date).getTime(), date.getTime())).toBe(true);
    expect(hex(encodeValue(new Date(1_000)))).toBe('d6ff00000001'); // timestamp 32
    expect(hex(encodeValue(new Date(1_500)))).toMatch(/^d7ff/); // timestamp 64
    expect(hex(encodeValue(new Date(-1_500)))).toMatch(/^c70cff/); // timestamp 96
    expect(hex(encodeValue(new Date(Number.NaN)))).toBe('d7097ff8000000000000');
  });

  it('strings that are not well-formed Unicode keep their lone surrogates, as values and as keys', () => {
    for (const text of ['a\ud800b', '\udc00', `${'x'.repeat(40)}\ud83d`, 'ok 🚀', '\ud83d\ude80'.repeat(20)]) {
      expect(roundTrip(text)).toBe(text);
    }
    expect(hex(encodeValue('\ud800'))).toBe('d50a00d8');
    expect(hex(encodeValue('🚀'))).toBe('a4f09f9a80');
    expect(roundTrip({ 'k\udfff': 1 })).toStrictEqual({ 'k\udfff': 1 });
  });

  it('strings of every header size', () => {
    for (const length of [0, 31, 32, 255, 256, 4_096, 4_097, 65_535, 65_536, 100_000]) {
      for (const unit of ['a', 'é', '日', '🚀']) {
        const text = unit.repeat(length / unit.length);
        expect(roundTrip(text)).toBe(text);
      }
    }
    expect(hex(encodeValue('x'.repeat(32))).slice(0, 4)).toBe('d920');
    expect(hex(encodeValue('é'.repeat(20))).slice(0, 4)).toBe('d928'); // 20 characters, 40 bytes
  });

  it('instances of classes without methods cross as plain objects; objects without a prototype too', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expect(roundTrip(new Point(1, 2))).toStrictEqual({ x: 1, y: 2 });
    expect(roundTrip(Object.assign(Object.create(null) as object, { a: 1 }))).toStrictEqual({ a: 1 });
    class Tagged extends Array<number> {}
    expect(roundTrip(Tagged.from([1, 2]))).toStrictEqual([1, 2]);
  });

  it('a key named __proto__ arrives as an own property and never reaches a prototype', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const crossed = roundTrip(hostile) as Record<string, unknown>;
    expect(Object.getPrototypeOf(crossed)).toBe(Object.prototype);
    expect(Object.keys(crossed)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(crossed, '__proto__')?.value).toStrictEqual({ polluted: true });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(crossed['polluted']).toBeUndefined();
  });

  it('values that outgrow the scratch buffer inside a Map, a Set, an error, a boxed string and an object with left-out keys', () => {
    const big = 'x'.repeat(300_000);
    const wide = Object.fromEntries(Array.from({ length: 20 }, (_, index) => [`k${index}`, index === 0 ? big : undefined]));
    const value = [new Map([['k', big]]), new Set([big, 1]), new Error(big, { cause: big }), new String(big), wide, { small: new Map([[1, [big.slice(0, 70_000)]]]) }];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      encodeValue({ filler: 'y'.repeat(5_000 * attempt) }); // the next encode starts at another offset
      expect(differenceBetween(roundTrip(value), asCrossed(structuredClone(value)))).toBeUndefined();
    }
  });

  it('an encode started inside another (a getter that encodes) does not disturb it', () => {
    const inner = { deep: [1, 2, 3] };
    const outer = {
      before: 'x'.repeat(100),
      get nested(): Uint8Array {
        return encodeValue(inner);
      },
      after: new Map([[1, 2]]),
    };
    const crossed = roundTrip(outer) as { before: string; nested: Uint8Array; after: Map<number, number> };
    expect(crossed.before).toBe('x'.repeat(100));
    expect(decodeValue(crossed.nested)).toStrictEqual(inner);
    expect(crossed.after).toStrictEqual(new Map([[1, 2]]));
  });
});

describe('what cannot cross is refused with its path', () => {
  it('a function', () => {
    const error = refusal({ items: [1, 2, 3, { callback: () => 1 }] });
    expect(error.message).toMatch(/^input\.items\[3\]\.callback is a function/);
    expect(error.path).toBe('input.items[3].callback');
    expect(error.code).toBe('TSMW_UNSUPPORTED_VALUE');
    expect(refusal(() => 1).path).toBe('input');
    expect(refusal({ 'a b': { 'x-y': [function named(): void {}] } }).path).toBe('input["a b"]["x-y"][0]');
  });

  it('a symbol, as a value or as a key', () => {
    expect(refusal({ kind: Symbol('k') }).message).toMatch(/^input\.kind is a symbol/);
    expect(refusal({ a: { [Symbol('secret')]: 1 } }).message).toMatch(/^input\.a has a symbol key Symbol\(secret\)/);
    expect(refusal([Object(Symbol('boxed'))]).message).toMatch(/^input\[0\] is a Symbol object/);
    // A symbol-keyed property that is not enumerable is not part of the value (as with string keys).
    const hidden = Object.defineProperty({ a: 1 }, Symbol('hidden'), { value: 1, enumerable: false });
    expect(roundTrip(hidden)).toStrictEqual({ a: 1 });
  });

  it('an instance of a class with methods or accessors, naming the class', () => {
    class Account {
      balance = 10;
      deposit(amount: number): void {
        this.balance += amount;
      }
    }
    expect(refusal({ account: new Account() }).message).toMatch(/^input\.account is an instance of Account, a class with methods/);
    class WithGetter {
      raw = 1;
      get doubled(): number {
        return this.raw * 2;
      }
    }
    expect(refusal([new WithGetter()]).path).toBe('input[0]');
    class Base {
      greet(): string {
        return 'hi';
      }
    }
    class Derived extends Base {}
    expect(refusal(new Derived()).message).toMatch(/^input is an instance of Derived/);
    class Stack extends Array<number> {
      top(): number | undefined {
        return this[this.length - 1];
      }
    }
    expect(refusal({ stack: Stack.from([1]) }).path).toBe('input.stack');
    expect(refusal({ url: new URL('https://example.org') }).message).toMatch(/^input\.url is an instance of URL/);
  });

  it('WeakMap, WeakSet, WeakRef, Promise and SharedArrayBuffer', () => {
    expect(refusal({ cache: new WeakMap() }).message).toMatch(/^input\.cache is a WeakMap/);
    expect(refusal({ seen: new WeakSet() }).message).toMatch(/^input\.seen is a WeakSet/);
    expect(refusal({ reference: new WeakRef({}) }).message).toMatch(/^input\.reference is a WeakRef/);
    expect(refusal({ pending: Promise.resolve(1) }).message).toMatch(/^input\.pending is a Promise: await it/);
    expect(refusal({ shared: new SharedArrayBuffer(8) }).message).toMatch(/^input\.shared is a SharedArrayBuffer/);
  });

  it('a circular reference, naming both ends', () => {
    const a: Record<string, unknown> = { b: {} };
    (a['b'] as Record<string, unknown>)['c'] = a;
    expect(refusal({ a }).message).toBe('input.a.b.c is a circular reference to input.a');
    const self: Record<string, unknown> = {};
    self['self'] = self;
    expect(refusal(self).message).toBe('input.self is a circular reference to input');
    const list: unknown[] = [1];
    list.push(list);
    expect(refusal({ list }).message).toBe('input.list[1] is a circular reference to input.list');
    const map = new Map<string, unknown>();
    map.set('me', map);
    expect(refusal({ map }).message).toBe('input.map.get("me") is a circular reference to input.map');
    const set = new Set<unknown>();
    set.add(set);
    expect(refusal(set).message).toBe('input.values()[0] is a circular reference to input');
    const error = new Error('loop') as Error & { cause?: unknown };
    error.cause = error;
    expect(refusal({ error }).message).toBe('input.error.cause is a circular reference to input.error');
    // A cycle through a large binary grows past the size cap first: still a circular reference.
    const wide: Record<string, unknown> = { data: new Uint8Array(1024 * 1024) };
    wide['again'] = wide;
    expect(refusal({ wide }).message).toBe('input.wide.again is a circular reference to input.wide');
  });

  it('nesting deeper than the limit (and exactly the limit crosses)', () => {
    let deepest: unknown = 'bottom';
    for (let level = 0; level < MAX_NESTING_DEPTH; level += 1) deepest = [deepest];
    expect(JSON.stringify(roundTrip(deepest))).toBe(JSON.stringify(deepest));
    const error = refusal([deepest]);
    expect(error.message).toMatch(new RegExp(`^input\\[0\\]\\[0\\].*\\(\\d+ more\\).*\\[0\\] is nested more than ${MAX_NESTING_DEPTH} levels deep$`));
    let maps: unknown = 1;
    for (let level = 0; level < MAX_NESTING_DEPTH / 2; level += 1) maps = new Map([[0, maps]]);
    expect(() => encodeValue(maps)).not.toThrow();
    expect(() => encodeValue([maps])).toThrow(/nested more than/);
  });

  it('inside Maps and Sets: the key, the value by its key, the member by its position', () => {
    expect(refusal(new Map([[() => 1, 'v']])).path).toBe('input.keys()[0]');
    expect(refusal({ table: new Map<unknown, unknown>([['ok', 1], ['fn', () => 1]]) }).path).toBe('input.table.get("fn")');
    expect(refusal(new Map<unknown, unknown>([[{}, Symbol('x')]])).path).toBe('input.values()[0]');
    expect(refusal(new Set([1, 2, Symbol('x')])).path).toBe('input.values()[2]');
    expect(refusal(new Error('e', { cause: { handler: () => 1 } })).path).toBe('input.cause.handler');
    expect(refusal(Object.assign(new Error('e'), { context: { fn: () => 1 } })).path).toBe('input.context.fn');
  });

  it('a getter that throws is an InvalidArgumentError naming the path', () => {
    const hostile = {
      list: [
        {
          get broken(): never {
            throw new Error('no access');
          },
        },
      ],
    };
    expect(() => encodeValue(hostile, undefined, 'task envelope', 'input')).toThrow(
      expect.objectContaining({ code: 'TSMW_INVALID_ARGUMENT', message: 'Cannot encode input.list[0].broken: reading it threw no access' }),
    );
  });

  it('envelopes name input, output and state; a refusal leaves the encoder ready for the next value', () => {
    const task: TaskEnvelope = { kind: 'tsmw-task', version: 1, taskId: 't', taskName: 'x', moduleHash: 'h', attempt: 1, input: { run: () => 1 } };
    expect(() => encodeTaskEnvelope(task)).toThrow(expect.objectContaining({ path: 'input.run', message: expect.stringMatching(/^input\.run is a function/) }));
    expect(() => encodeTaskEnvelope({ ...task, input: Symbol('s') })).toThrow(expect.objectContaining({ path: 'input' }));
    expect(() =>
      encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId: 't', attempt: 1, ok: true, output: [new WeakMap()], timing: { startedAt: 1, wallMs: 1, cpuMs: 1 } }),
    ).toThrow(expect.objectContaining({ path: 'output[0]' }));
    expect(() => encodeValue({ fn: () => 1 }, undefined, 'checkpoint', 'state')).toThrow(expect.objectContaining({ path: 'state.fn' }));
    const fine = { ...task, input: { a: [1, 'two', new Map([[3, 4]])] } };
    expect(decodeTaskEnvelope(encodeTaskEnvelope(fine))).toStrictEqual(fine);
  });
});

describe('envelopes without input or output', () => {
  const base = { kind: 'tsmw-task', version: 1, taskId: 't', taskName: 'now', moduleHash: 'h', attempt: 1 } as const;

  it('an undefined input is left out and arrives as undefined; so does an output', () => {
    const bytes = encodeTaskEnvelope({ ...base, input: undefined });
    expect(Buffer.from(bytes).includes(Buffer.from('input'))).toBe(false);
    const decoded = decodeTaskEnvelope(bytes);
    expect('input' in decoded).toBe(true);
    expect(decoded.input).toBeUndefined();
    const result = encodeResultEnvelope({ kind: 'tsmw-result', version: 1, taskId: 't', attempt: 1, ok: true, output: undefined, timing: { startedAt: 1, wallMs: 2, cpuMs: 3 } });
    const decodedResult = decodeResultEnvelope(result);
    expect(decodedResult.ok).toBe(true);
    expect('output' in decodedResult && decodedResult.output).toBeUndefined();
  });

  it('a worker in another language may leave them out (plain MessagePack, no extension)', () => {
    const plain = new Packr({ useRecords: false, variableMapSize: true });
    const task = decodeTaskEnvelope(new Uint8Array(plain.pack({ ...base })));
    expect(task.input).toBeUndefined();
    const result = decodeResultEnvelope(new Uint8Array(plain.pack({ kind: 'tsmw-result', version: 1, taskId: 't', attempt: 1, ok: true, timing: { startedAt: 1, wallMs: 2, cpuMs: 3 } })));
    expect(result.ok && result.output).toBeUndefined();
  });
});

describe('decoding refuses what is not tsmw wire format', () => {
  const decodeError = (bytes: number[] | Uint8Array): EnvelopeDecodeError => {
    try {
      decodeValue(new Uint8Array(bytes));
    } catch (error) {
      expect(EnvelopeDecodeError.isInstance(error)).toBe(true);
      return error as EnvelopeDecodeError;
    }
    throw new Error('the bytes were decoded');
  };

  it("refuses every msgpackr extension, whatever msgpackr's options", () => {
    const msgpackr = new Packr({ moreTypes: true, structuredClone: true, useRecords: true, bundleStrings: true, encodeUndefinedAsNil: false, useBigIntExtension: true } as ConstructorParameters<typeof Packr>[0]);
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;
    const samples: Array<[string, unknown]> = [
      ['undefined (0x00)', [undefined]],
      ['Set (0x73)', new Set([1])],
      ['RegExp (0x78)', /x/g],
      ['Error (0x65)', new Error('e')],
      ['BigInt (0x42)', 2n ** 70n],
      ['typed array (0x74)', new Float64Array([1])],
      ['records (0x72)', [{ a: 1 }, { a: 2 }]],
      ['ids and pointers (0x69, 0x70)', cyclic],
      ['string bundles (0x62)', { long: 'text that is long enough to be bundled '.repeat(3), other: 'more text in the bundle, too' }],
    ];
    for (const [name, value] of samples) {
      const bytes = new Uint8Array(msgpackr.pack(value));
      expect(() => decodeValue(bytes), name).toThrow(EnvelopeDecodeError);
    }
    expect(decodeError([0xd4, 0x73, 0x00, 0x90]).message).toMatch(/extension type 115 is not part of tsmw's wire format \(it is a msgpackr extension\)/);
    expect(decodeError([0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61, 0x01]).message).toMatch(/extension type 114/);
    expect(decodeError([0xd4, 0x00, 0x00]).message).toMatch(/extension type 0 /);
  });

  it('refuses extension types outside the table and malformed extensions', () => {
    expect(decodeError([0xd4, 0x20, 0x00]).message).toMatch(/extension type 32 is not part of tsmw's wire format$/);
    expect(decodeError([0xd4, 0xfe, 0x00]).message).toMatch(/extension type -2 /);
    expect(decodeError([0xd4, 0x01, 0x01]).message).toMatch(/an array hole outside an array/);
    expect(decodeError([0x81, 0xa1, 0x61, 0xd4, 0x01, 0x01]).message).toMatch(/an array hole outside an array/);
    expect(decodeError([0xd4, 0x01, 0x02]).message).toMatch(/unknown byte/);
    expect(decodeError([0xd5, 0xff, 0x00, 0x00]).message).toMatch(/timestamp .* 4, 8 or 12 bytes/);
    expect(decodeError([0xd7, 0xff, 0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0]).message).toMatch(/999,999,999 nanoseconds/);
    expect(decodeError([0xd4, 0x05, 0x0d]).message).toMatch(/unknown kind 13/);
    expect(decodeError([0xd5, 0x05, 0x09, 0x00]).message).toMatch(/not a whole number of 8-byte elements/);
    expect(decodeError([0xd4, 0x03, 0x90]).message).toMatch(/a Map extension must hold a map/);
    expect(decodeError([0xd5, 0x04, 0x90, 0xc0]).message).toMatch(/holds 1 bytes after its value/);
    expect(decodeError([0xc7, 0x05, 0x06, 0x92, 0xa1, 0x28, 0xa1, 0x67]).message).toMatch(/invalid expression/);
    expect(decodeError([0xc7, 0x05, 0x06, 0x92, 0xa1, 0x61, 0xa1, 0x51]).message).toMatch(/invalid expression/);
    expect(decodeError([0xd6, 0x07, 0x81, 0xa1, 0x61, 0x01]).message).toMatch(/Error extension needs a string name and message/);
    expect(decodeError([0xd4, 0x08, 0xc0]).message).toMatch(/boxed-primitive extension must hold/);
    expect(decodeError([0xc7, 0x00, 0x02]).message).toMatch(/bigint\) must hold at least 1 byte/);
    expect(decodeError([0xd5, 0x0a, 0x00]).message).toMatch(/the bytes end/);
    expect(decodeError([0xc7, 0x03, 0x0a, 0x61, 0x00, 0x62]).message).toMatch(/even number of bytes/);
    expect(decodeError([0xc1]).message).toMatch(/0xc1 is never used/);
    expect(decodeError([0x92, 0x01]).message).toMatch(/the bytes end in the middle of a value/);
    expect(decodeError([0x01, 0x02]).message).toMatch(/1 bytes follow the value/);
  });

  it('refuses nesting past the limit without overflowing the stack, in arrays, maps and extensions', () => {
    const arrays = new Uint8Array(MAX_NESTING_DEPTH + 1).fill(0x91);
    expect(decodeError([...arrays, 0xc0]).message).toMatch(/nested more than 1000 levels/);
    expect(() => decodeValue(new Uint8Array([...arrays.subarray(1), 0xc0]))).not.toThrow();
    const maps = new Uint8Array(3 * 70_000);
    for (let index = 0; index < maps.length; index += 3) maps.set([0x81, 0xa1, 0x6b], index);
    expect(decodeError([...maps, 0xc0]).message).toMatch(/nested more than/);
    // A Set inside a Set inside ...: each counts two levels (the extension and its array).
    const nestedSets = (levels: number): Uint8Array => {
      let inner = Buffer.from([0xc0]);
      for (let level = 0; level < levels; level += 1) {
        const header = Buffer.from([0xc9, 0, 0, 0, 0, 0x04, 0x91]);
        header.writeUInt32BE(inner.length + 1, 1);
        inner = Buffer.concat([header, inner]);
      }
      return new Uint8Array(inner);
    };
    expect(() => decodeValue(nestedSets(MAX_NESTING_DEPTH / 2))).not.toThrow();
    expect(decodeError(nestedSets(MAX_NESTING_DEPTH / 2 + 1)).message).toMatch(/nested more than/);
  });

  it('never allocates more array items than there are bytes', () => {
    expect(decodeError([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]).message).toMatch(/the bytes end/);
    // Nested arrays that each claim all the bytes left: their sum is refused.
    const nested: number[] = [];
    for (let level = 0; level < 40; level += 1) nested.push(0xdc, 0x01, 0x00);
    expect(decodeError([...nested, ...new Array(300).fill(0xc0)]).message).toMatch(/the bytes end/);
  });

  it('reads plain maps with number keys as objects, refuses other key types, and 64-bit integers as numbers when exact', () => {
    expect(decodeValue(new Uint8Array([0x82, 0x01, 0xa1, 0x61, 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xa1, 0x62]))).toStrictEqual({ 1: 'a', 1.5: 'b' });
    expect(decodeError([0x81, 0x90, 0x01]).message).toMatch(/a map key is of type Array/);
    expect(decodeError([0x81, 0xc0, 0x01]).message).toMatch(/a map key is nil/);
    expect(decodeValue(new Uint8Array([0xd3, 0, 0, 0, 0, 0, 0, 0, 5]))).toBe(5);
    expect(decodeValue(new Uint8Array([0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 1]))).toBe(-(2 ** 53) + 1);
    expect(decodeValue(new Uint8Array([0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(2n ** 63n - 1n);
    expect(decodeValue(new Uint8Array([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(2n ** 64n - 1n);
    expect(decodeValue(new Uint8Array([0xcf, 0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(2 ** 53 - 1);
    expect(decodeValue(new Uint8Array([0xca, 0x3f, 0xc0, 0, 0]))).toBe(1.5);
  });
});

describe('the size cap', () => {
  it('maxBytes must be a positive finite number: NaN, 0, negative, Infinity or a string are refused', () => {
    const bytes = encodeValue({ a: 1 });
    for (const maxBytes of [null as unknown as number, true as unknown as number]) {
      expect(() => encodeValue({ a: 1 }, maxBytes), String(maxBytes)).toThrow(InvalidArgumentError);
      expect(() => decodeValue(bytes, maxBytes), String(maxBytes)).toThrow(InvalidArgumentError);
    }
    for (const maxBytes of [Number.NaN, 0, -1, Infinity, '1000' as unknown as number]) {
      expect(() => encodeValue({ a: 1 }, maxBytes), String(maxBytes)).toThrow(InvalidArgumentError);
      expect(() => decodeValue(bytes, maxBytes), String(maxBytes)).toThrow(InvalidArgumentError);
      expect(() => decodeTaskEnvelope(bytes, { maxBytes }), String(maxBytes)).toThrow(expect.objectContaining({ code: 'TSMW_INVALID_ARGUMENT', message: expect.stringMatching(/^maxBytes must be a positive, finite number/) }));
      expect(() => decodeResultEnvelope(bytes, { maxBytes })).toThrow(InvalidArgumentError);
      expect(() => encodeTaskEnvelope({ kind: 'tsmw-task', version: 1, taskId: 't', taskName: 'x', moduleHash: 'h', attempt: 1, input: 1 }, { maxBytes })).toThrow(InvalidArgumentError);
    }
  });

  it('an encoding over the cap is refused as soon as it passes the cap, not after building it all', () => {
    const chunks = Array.from({ length: 64 }, () => new Uint8Array(1024 * 1024));
    let error: unknown;
    try {
      encodeValue(chunks, 4 * 1024 * 1024);
    } catch (thrown) {
      error = thrown;
    }
    expect(EnvelopeTooLargeError.isInstance(error)).toBe(true);
    expect((error as EnvelopeTooLargeError).byteLength).toBeLessThan(6 * 1024 * 1024);
    expect(decodeValue(encodeValue(chunks.slice(0, 3), 4 * 1024 * 1024), 4 * 1024 * 1024)).toHaveLength(3);
  });
});

describe('large binaries are copied once each way', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('a 1 MiB Float64Array: one copy into the encoding, one out of it', () => {
    const samples = new Float64Array(128 * 1024).map((_, index) => Math.sin(index));
    const set = vi.spyOn(Uint8Array.prototype, 'set');
    const bytes = encodeValue({ samples, label: 'x' });
    const copiesIn = set.mock.calls.filter(([source]) => (source as ArrayLike<number>).length >= samples.byteLength).length;
    set.mockRestore();
    expect(copiesIn).toBe(1);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength); // a buffer of the exact size
    const slice = vi.spyOn(ArrayBuffer.prototype, 'slice');
    const decoded = decodeValue(bytes) as { samples: Float64Array };
    const copiesOut = slice.mock.results.filter((result) => (result.value as ArrayBuffer).byteLength >= samples.byteLength).length;
    expect(copiesOut).toBe(1);
    expect(decoded.samples).toBeInstanceOf(Float64Array);
    expect(decoded.samples.buffer.byteLength).toBe(samples.byteLength);
    expect(Buffer.from(decoded.samples.buffer).equals(Buffer.from(samples.buffer))).toBe(true);
  });

  it('small encodings share a scratch buffer and are never overwritten by later ones', () => {
    const first = encodeValue({ n: 1 });
    const copy = first.slice();
    for (let index = 0; index < 10_000; index += 1) encodeValue({ n: index, text: 'x'.repeat(index % 300) });
    expect(hex(first)).toBe(hex(copy));
  });
});

describe('any MessagePack reader can read or skip it', () => {
  /** A generic reader's walk: every value, extensions as opaque sized blobs. Returns the end position. */
  function skim(bytes: Uint8Array, start = 0): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let position = start;
    const token = bytes[position++]!;
    const items = (count: number): number => {
      for (let index = 0; index < count; index += 1) position = skim(bytes, position);
      return position;
    };
    if (token < 0x80 || token >= 0xe0 || token === 0xc0 || token === 0xc2 || token === 0xc3) return position;
    if (token < 0x90) return items((token & 0x0f) * 2);
    if (token < 0xa0) return items(token & 0x0f);
    if (token < 0xc0) return position + (token & 0x1f);
    const sized: Record<number, [number, number]> = { 0xc4: [1, 0], 0xc5: [2, 0], 0xc6: [4, 0], 0xd9: [1, 0], 0xda: [2, 0], 0xdb: [4, 0], 0xc7: [1, 1], 0xc8: [2, 1], 0xc9: [4, 1] };
    const fixed: Record<number, number> = { 0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8, 0xd4: 2, 0xd5: 3, 0xd6: 5, 0xd7: 9, 0xd8: 17 };
    if (sized[token] !== undefined) {
      const [width, extra] = sized[token]!;
      const length = width === 1 ? bytes[position]! : width === 2 ? view.getUint16(position) : view.getUint32(position);
      return position + width + extra + length;
    }
    if (fixed[token] !== undefined) return position + fixed[token]!;
    if (token === 0xdc) return (position += 2), items(view.getUint16(position - 2));
    if (token === 0xdd) return (position += 4), items(view.getUint32(position - 4));
    if (token === 0xde) return (position += 2), items(view.getUint16(position - 2) * 2);
    if (token === 0xdf) return (position += 4), items(view.getUint32(position - 4) * 2);
    throw new Error(`token ${token}`);
  }

  it('every extension is self-delimiting: a reader that knows none of them walks to the exact end', () => {
    const value = {
      map: new Map<unknown, unknown>([[1, new Set([2n ** 80n])], ['k', [undefined, , new Date(Number.NaN)]]]),
      views: [new Float64Array(40_000), new Int8Array(3), new DataView(new ArrayBuffer(70_000))],
      error: new TypeError('t', { cause: /re/g }),
      boxed: [new String('s'), Object(1n) as object],
      text: 'a\ud800',
    };
    const bytes = encodeValue(value);
    expect(skim(bytes)).toBe(bytes.byteLength);
  });

  it('plain values are plain MessagePack that msgpackr reads the same, and tsmw reads what msgpackr writes', () => {
    const plain = { a: [1, -1, 300, -70_000, 2 ** 40, 1.5, true, null, 'text', 'é'.repeat(40)], b: new Uint8Array([1, 2]), c: { d: {} }, when: new Date(Date.UTC(2026, 0, 1)) };
    const reader = new Packr({ useRecords: false, mapsAsObjects: true });
    expect(reader.unpack(encodeValue(plain))).toEqual(plain);
    expect(decodeValue(new Uint8Array(reader.pack(plain)))).toStrictEqual(plain);
  });
});
