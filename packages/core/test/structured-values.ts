// Test support for the wire's value semantics: values that structuredClone accepts (generated),
// and an exact comparison that says where two values first differ.
import { types } from 'node:util';
import fc from 'fast-check';

/**
 * The first difference between two values, or undefined when they are the same value as
 * structuredClone would copy it: same types and prototypes, -0 apart from 0, holes apart from
 * undefined, Map and Set entries in order, typed arrays by kind and bytes, errors by class,
 * name, message, stack, cause and errors.
 */
export function differenceBetween(actual: unknown, expected: unknown, path = 'value'): string | undefined {
  if (typeof actual !== typeof expected) return `${path}: ${typeof actual} instead of ${typeof expected}`;
  if (typeof expected !== 'object' || expected === null || actual === null) {
    return Object.is(actual, expected) ? undefined : `${path}: ${show(actual)} instead of ${show(expected)}`;
  }
  const a = actual as object;
  const e = expected;
  const tag = Object.prototype.toString.call(e);
  if (Object.prototype.toString.call(a) !== tag) return `${path}: ${Object.prototype.toString.call(a)} instead of ${tag}`;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(e)) return `${path}: another prototype (${a.constructor?.name} instead of ${e.constructor?.name})`;
  if (Array.isArray(e)) {
    const list = a as unknown[];
    if (list.length !== e.length) return `${path}: length ${list.length} instead of ${e.length}`;
    for (let index = 0; index < e.length; index += 1) {
      if (index in list !== index in e) return `${path}[${index}]: ${index in e ? 'a hole instead of an item' : 'an item instead of a hole'}`;
      const difference = differenceBetween(list[index], e[index], `${path}[${index}]`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (types.isMap(e)) {
    const entries = [...(a as Map<unknown, unknown>)];
    const wanted = [...e];
    if (entries.length !== wanted.length) return `${path}: ${entries.length} entries instead of ${wanted.length}`;
    for (let index = 0; index < wanted.length; index += 1) {
      const difference =
        differenceBetween(entries[index]![0], wanted[index]![0], `${path}.keys()[${index}]`) ??
        differenceBetween(entries[index]![1], wanted[index]![1], `${path}.values()[${index}]`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (types.isSet(e)) return differenceBetween([...(a as Set<unknown>)], [...e], `${path}.values()`);
  if (types.isDate(e)) return Object.is((a as Date).getTime(), e.getTime()) ? undefined : `${path}: time ${(a as Date).getTime()} instead of ${e.getTime()}`;
  if (types.isRegExp(e)) {
    const regExp = a as RegExp;
    return regExp.source === e.source && regExp.flags === e.flags && regExp.lastIndex === e.lastIndex ? undefined : `${path}: ${String(regExp)} instead of ${String(e)}`;
  }
  if (types.isBoxedPrimitive(e)) return differenceBetween((a as { valueOf(): unknown }).valueOf(), (e as { valueOf(): unknown }).valueOf(), `${path}.valueOf()`);
  if (types.isArrayBuffer(e) || ArrayBuffer.isView(e)) {
    const bytes = (value: ArrayBuffer | ArrayBufferView): Buffer =>
      ArrayBuffer.isView(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : Buffer.from(value);
    return bytes(a as ArrayBuffer).equals(bytes(e)) ? undefined : `${path}: other bytes`;
  }
  if (types.isNativeError(e)) {
    const error = a as Error & { errors?: unknown };
    for (const field of ['name', 'message', 'stack'] as const) {
      if (error[field] !== e[field]) return `${path}.${field}: ${show(error[field])} instead of ${show(e[field])}`;
    }
    if (Object.hasOwn(error, 'cause') !== Object.hasOwn(e, 'cause')) return `${path}.cause: ${Object.hasOwn(e, 'cause') ? 'missing' : 'unexpected'}`;
    const cause = differenceBetween(error.cause, e.cause, `${path}.cause`);
    if (cause !== undefined) return cause;
    if ('errors' in e) return differenceBetween(error.errors, (e as { errors: unknown }).errors, `${path}.errors`);
    return undefined;
  }
  // Keys as a set: decoders build envelopes in their own field order (codec.test.ts checks that values keep theirs).
  const keys = Object.keys(a).sort();
  const wantedKeys = Object.keys(e).sort();
  if (keys.join('\u0000') !== wantedKeys.join('\u0000')) return `${path}: keys ${JSON.stringify(keys)} instead of ${JSON.stringify(wantedKeys)}`;
  for (const key of wantedKeys) {
    const difference = differenceBetween((a as Record<string, unknown>)[key], (e as Record<string, unknown>)[key], `${path}[${JSON.stringify(key)}]`);
    if (difference !== undefined) return difference;
  }
  return undefined;
}

function show(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

/**
 * What crossing the wire makes of a structuredClone copy: object properties holding undefined
 * are left out (the one place where tsmw differs from structuredClone on generated values), and
 * objects without a prototype arrive with Object.prototype (structuredClone does that too).
 */
export function asCrossed(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let index = 0; index < value.length; index += 1) if (index in value) copy[index] = asCrossed(value[index]);
    return copy;
  }
  if (types.isMap(value)) return new Map([...value].map(([key, item]) => [asCrossed(key), asCrossed(item)]));
  if (types.isSet(value)) return new Set([...value].map(asCrossed));
  if (types.isNativeError(value)) {
    const error = value as Error & { errors?: unknown[] };
    if (Object.hasOwn(error, 'cause')) error.cause = asCrossed(error.cause);
    return error;
  }
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (prototype !== Object.prototype && prototype !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue;
    Object.defineProperty(copy, key, { value: asCrossed(item), enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

const loneSurrogateString = fc
  .array(fc.oneof(fc.integer({ min: 0xd800, max: 0xdfff }), fc.integer({ min: 0, max: 0xffff })), { maxLength: 40 })
  .map((codes) => String.fromCharCode(...codes));

const float16Array = (globalThis as { Float16Array?: new (values: number[]) => ArrayBufferView }).Float16Array;
const typedArray = fc.oneof(
  ...(float16Array === undefined ? [] : [fc.array(fc.double(), { maxLength: 6 }).map((values) => new float16Array(values))]),
  fc.int8Array({ maxLength: 8 }),
  fc.uint8Array({ maxLength: 8 }),
  fc.uint8ClampedArray({ maxLength: 8 }),
  fc.int16Array({ maxLength: 8 }),
  fc.uint16Array({ maxLength: 8 }),
  fc.int32Array({ maxLength: 8 }),
  fc.uint32Array({ maxLength: 8 }),
  fc.float32Array({ maxLength: 8 }),
  fc.float64Array({ maxLength: 8 }),
  fc.bigInt64Array({ maxLength: 4 }),
  fc.bigUint64Array({ maxLength: 4 }),
  // A view into part of a larger buffer: only the view's bytes cross.
  fc.float64Array({ minLength: 2, maxLength: 6 }).map((array) => new Float64Array(array.buffer, 8, array.length - 1)),
  fc.uint8Array({ minLength: 3, maxLength: 12 }).map((array) => new Int16Array(array.buffer, 2, Math.floor((array.length - 2) / 2))),
  fc.uint8Array({ maxLength: 8 }).map((array) => new DataView(array.buffer)),
  fc.uint8Array({ maxLength: 8 }).map((array) => array.buffer),
  fc.uint8Array({ maxLength: 8 }).map((array) => Buffer.from(array)),
);

const noCause = Symbol('no cause');
const errorConstructors = [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError] as const;
const regExpSources = ['a+b', '^x$', '(?<year>\\d{4})', '[a-z]\\d', '', '.*?', '\\/', 'é🚀'];

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.constantFrom(-0, 0, Number.NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31), 2 ** 32 - 1, 2 ** 32),
  fc.integer(),
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 80 }),
  loneSurrogateString,
  fc.bigInt(),
  fc.bigInt({ min: -(2n ** 300n), max: 2n ** 300n }),
  fc.date({ noInvalidDate: false }),
  typedArray,
  fc.tuple(fc.constantFrom(...regExpSources), fc.subarray(['d', 'g', 'i', 'm', 's', 'u', 'y'])).map(([source, flags]) => new RegExp(source, flags.join(''))),
  fc.oneof(
    fc.double().map((number) => new Number(number)),
    fc.string().map((text) => new String(text)),
    fc.boolean().map((flag) => new Boolean(flag)),
    fc.bigInt().map((big) => Object(big) as object),
  ),
);

/** Values that structuredClone accepts: every type it knows, nested, with holes, undefined, -0, cycles excluded. */
export const structuredValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('sparse'), tie('object'), tie('map'), tie('set'), tie('error')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  sparse: fc.sparseArray(tie('value'), { maxLength: 8, maxNumElements: 4 }),
  object: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', '0', '10', 'toString')), tie('value'), { maxKeys: 5 }),
  map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 4 }).map((entries) => new Map(entries)),
  set: fc.array(tie('value'), { maxLength: 4 }).map((members) => new Set(members)),
  error: fc
    .tuple(fc.constantFrom(...errorConstructors), fc.string(), fc.option(tie('value'), { nil: noCause }))
    .map(([Constructor, message, cause]) => (cause === noCause ? new Constructor(message) : new Constructor(message, { cause }))),
})).value;
