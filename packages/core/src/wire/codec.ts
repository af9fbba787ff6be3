import { InvalidArgumentError } from '../errors/invalid-argument-error.js';

/**
 * THE one MessagePack configuration of tsmw. Everything that crosses a process or machine
 * boundary is encoded and decoded here, as MessagePack that any language can read: plain maps
 * with string keys, arrays, strings (UTF-8), integers, float64, booleans, nil and `bin`; dates
 * use the standard timestamp extension (-1). What MessagePack lacks travels in the extension
 * types below, whose data is self-contained (a generic reader can skip an extension it does not
 * know, or read it with nothing but this table). `docs/wire-format.md` is the same table for
 * authors of workers in other languages.
 *
 * Values cross as `structuredClone` copies them, with these choices:
 * - an object property holding `undefined` is left out (the property is missing on arrival);
 *   `undefined` anywhere else (top level, array item, Map key or value, Set member) crosses;
 * - array holes stay holes; other properties of arrays (`array.extra = 1`) are not sent;
 * - typed arrays and DataViews arrive over an ArrayBuffer of their own bytes (byteOffset 0);
 * - errors keep their name (the standard constructors are rebuilt by name, other names set on
 *   an `Error`), message, stack, cause, `errors` (AggregateError) and other own enumerable
 *   properties (such as `code`);
 * - objects referenced twice arrive as two copies (MessagePack has no references);
 * - a key named `__proto__` arrives as an own property, never as the prototype.
 * What cannot cross is refused with `UnsupportedValueError` naming its path.
 *
 * The writer (`encode-value.ts`) and the reader (`decode-value.ts`) implement this table and
 * nothing else. They are not msgpackr: encoding checks what can cross in the same pass that
 * writes it, and decoding refuses anything outside this table (msgpackr's own extensions and
 * records, nesting past `MAX_NESTING_DEPTH`); a msgpackr configuration needs a second pass over
 * every value and every byte for that, and its extension registry is global to every msgpackr
 * user in the process. Nothing here is registered anywhere.
 */
export const ExtensionType = {
  /** fixext 1. Data `0x00`: `undefined`; `0x01`: a hole in an array (only as an array item). */
  Undefined: 0x01,
  /** A BigInt: its two's-complement value, big-endian, in the fewest bytes (at least one). */
  BigInt: 0x02,
  /** A Map: the data is one MessagePack map whose keys may be of any type (entries in order). */
  Map: 0x03,
  /** A Set: the data is one MessagePack array of the members (in order). */
  Set: 0x04,
  /** An ArrayBuffer, a DataView or a typed array other than Uint8Array: one kind byte, then the bytes (elements little-endian). */
  BinaryView: 0x05,
  /** A RegExp: the data is one MessagePack array `[source, flags]`. */
  RegExp: 0x06,
  /** An error: the data is one MessagePack map `{ name, message, stack?, cause?, errors?, properties? }`. */
  Error: 0x07,
  /** A boxed primitive (`new Number(1)`, `new String('s')`, `new Boolean(true)`, `Object(1n)`): the data is the primitive. */
  BoxedPrimitive: 0x08,
  /** A Date the timestamp extension cannot hold (an invalid date): its time value as a big-endian float64 (NaN). */
  InvalidDate: 0x09,
  /** A string that is not well-formed Unicode (a lone surrogate): its UTF-16 code units, little-endian. */
  Utf16String: 0x0a,
  /** The standard MessagePack timestamp (4, 8 or 12 bytes): every valid Date. */
  Timestamp: -1,
} as const;

/** The first byte of a BinaryView extension: what the bytes are. Uint8Array (and Buffer) travel as `bin`. */
export const BinaryViewKind = {
  ArrayBuffer: 0,
  DataView: 1,
  Int8Array: 2,
  Uint8ClampedArray: 3,
  Int16Array: 4,
  Uint16Array: 5,
  Int32Array: 6,
  Uint32Array: 7,
  Float32Array: 8,
  Float64Array: 9,
  BigInt64Array: 10,
  BigUint64Array: 11,
  Float16Array: 12,
} as const;

export type TypedArrayConstructor = new (buffer: ArrayBuffer) => ArrayBufferView & { readonly BYTES_PER_ELEMENT: number };
const float16ArrayConstructor = (globalThis as { Float16Array?: TypedArrayConstructor }).Float16Array;
/** Constructor and element size by kind (kinds 0 and 1 are ArrayBuffer and DataView). */
export const typedArrayByKind: ReadonlyArray<readonly [TypedArrayConstructor | undefined, number]> = [
  [undefined, 1],
  [undefined, 1],
  [Int8Array, 1],
  [Uint8ClampedArray, 1],
  [Int16Array, 2],
  [Uint16Array, 2],
  [Int32Array, 4],
  [Uint32Array, 4],
  [Float32Array, 4],
  [Float64Array, 8],
  [BigInt64Array, 8],
  [BigUint64Array, 8],
  [float16ArrayConstructor, 2],
];
export const kindByTypedArrayName = new Map<string, number>(Object.entries(BinaryViewKind));

/** The `[Symbol.toStringTag]` getter of typed arrays: the name of the kind, for any realm. */
export const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, Symbol.toStringTag)!.get! as (
  this: unknown,
) => string | undefined;

/** Elements travel little-endian; a big-endian host swaps them. */
export const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Node's Buffer methods the codec uses without the argument checks of their public wrappers. */
export interface Utf8Buffer extends Buffer {
  utf8Write(text: string, offset: number, maxLength: number): number;
  utf8Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
}

/** Checks a `maxBytes` option: a cap that is not a positive finite number would turn the size cap off. */
export function checkMaxBytes(maxBytes: unknown, name = 'maxBytes'): number {
  if (typeof maxBytes !== 'number' || !(maxBytes > 0) || !Number.isFinite(maxBytes)) {
    throw new InvalidArgumentError(`${name} must be a positive, finite number of bytes; got ${typeof maxBytes === 'number' ? String(maxBytes) : typeof maxBytes}`);
  }
  return maxBytes;
}


/** Reverses the bytes of each element, in place (for big-endian hosts). */
export function swapBytes(bytes: Uint8Array, elementSize: number): Uint8Array {
  for (let start = 0; start + elementSize <= bytes.length; start += elementSize) {
    for (let low = start, high = start + elementSize - 1; low < high; low += 1, high -= 1) {
      const swapped = bytes[low]!;
      bytes[low] = bytes[high]!;
      bytes[high] = swapped;
    }
  }
  return bytes;
}

/** Extension types msgpackr writes (undefined, bigint, string bundles, errors, ids, pointers, records, sets, typed arrays, regular expressions), named in errors. */
export const msgpackrExtensionTypes = new Set([0x00, 0x42, 0x62, 0x65, 0x69, 0x70, 0x72, 0x73, 0x74, 0x78]);
