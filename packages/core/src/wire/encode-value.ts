import { types } from 'node:util';
import { EnvelopeTooLargeError } from '../errors/envelope-too-large-error.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { TsmwError } from '../errors/tsmw-error.js';
import { UnsupportedValueError } from '../errors/unsupported-value-error.js';
import { BinaryViewKind, checkMaxBytes, ExtensionType, hostIsLittleEndian, kindByTypedArrayName, swapBytes, typedArrayName, type Utf8Buffer } from './codec.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, MAX_NESTING_DEPTH } from './limits.js';
import { describeValue, findCycle, pathOf, Refusal, RefusalKind, StepKind, type PathStep } from './value-path.js';

/** Binaries at least this large are not copied into the scratch buffer but once, straight into the encoding's own buffer. */
const LARGE_BINARY_BYTES = 64 * 1024;
/** Below this size an encoding is returned as a view of the shared scratch buffer (see `encodeValue`). */
const SHARE_BELOW_BYTES = 64 * 1024;
/** ...unless that buffer has grown past this, so that a small encoding never pins a big buffer. */
const MAX_SHARED_BUFFER_BYTES = 1024 * 1024;
const SCRATCH_BYTES = 16 * 1024;
/** A new scratch buffer is started when less than this is left. */
const MIN_FREE_SCRATCH_BYTES = 2048;
/** Strings longer than this are measured exactly before they are written. */
const MEASURE_STRINGS_LONGER_THAN = 4096;

const INT64_MIN = -(1n << 63n);
const INT64_LIMIT = 1n << 63n;

function allocate(size: number): Utf8Buffer {
  return Buffer.allocUnsafeSlow(size) as Utf8Buffer;
}

const bigIntScratch = new DataView(new ArrayBuffer(8));
const hasOwn = Object.prototype.hasOwnProperty;
const propertyIsEnumerable = Object.prototype.propertyIsEnumerable;
const isWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed;
const errorFields = new Set(['name', 'message', 'stack', 'cause', 'errors']);

function throwing(error: unknown): Refusal {
  return error instanceof Refusal ? error : new Refusal(RefusalKind.Threw, '', undefined, error);
}

/**
 * Writes one value as MessagePack into a growing scratch buffer, checking in the same pass that
 * it can cross. Module state is avoided so that an encode started from inside another (a getter
 * that encodes) gets a writer of its own.
 */
class Writer implements PartsWriter {
  private buffer = allocate(SCRATCH_BYTES);
  private view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  private position = 0;
  private start = 0;
  private depth = 0;
  private maxBytes = DEFAULT_MAX_ENVELOPE_BYTES;
  /** Large binaries, inserted at their offsets (from `start`) when the encoding is assembled. */
  private chunkOffsets: number[] = [];
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;
  /** Whether a prototype has methods, for this encoding. */
  private methodCache: Map<object, boolean> | undefined;

  encode(value: unknown, maxBytes: number): Uint8Array {
    this.begin(0, maxBytes);
    try {
      this.write(value);
      return this.finish();
    } catch (error) {
      this.position = this.start;
      throw error;
    } finally {
      this.end();
    }
  }

  /**
   * Like `encode`, but the caller's `body` writes the parts (see `encodeParts`); it starts at
   * depth 1, as inside a top-level map.
   */
  encodeParts<Argument>(body: (writer: PartsWriter, argument: Argument) => void, argument: Argument, maxBytes: number): Uint8Array {
    this.begin(1, maxBytes);
    try {
      body(this, argument);
      return this.finish();
    } catch (error) {
      this.position = this.start;
      throw error;
    } finally {
      this.end();
    }
  }

  /** Starts an encoding in the scratch buffer (a fresh one when too little is left). */
  private begin(depth: number, maxBytes: number): void {
    if (this.buffer.length - this.position < MIN_FREE_SCRATCH_BYTES) {
      this.replaceBuffer(allocate(SCRATCH_BYTES));
      this.position = 0;
    } else {
      this.position = (this.position + 7) & ~7; // each encoding starts word-aligned
    }
    this.start = this.position;
    this.depth = depth;
    this.maxBytes = maxBytes;
  }

  /** Ends an encoding, done or failed: what it grew or gathered is not kept for the next. */
  private end(): void {
    // A scratch buffer grown for a large encoding is not kept between encodings.
    if (this.buffer.length > MAX_SHARED_BUFFER_BYTES) {
      this.replaceBuffer(allocate(SCRATCH_BYTES));
      this.position = 0;
    }
    this.methodCache = undefined;
    if (this.chunks.length > 0) {
      this.chunks = [];
      this.chunkOffsets = [];
    }
    this.chunkBytes = 0;
  }

  bytesWritten(): number {
    // Large binaries are inserted at their offsets when the encoding is assembled: all of those so far lie before this point.
    return this.position - this.start + this.chunkBytes;
  }

  /** Bytes already encoded (constant parts of an envelope). */
  writeRaw(bytes: Uint8Array): void {
    const length = bytes.length;
    if (this.position + length > this.buffer.length) this.grow(length, true);
    const buffer = this.buffer;
    let position = this.position;
    // Constant parts are short: a loop costs less than a call into the runtime.
    if (length < 64) for (let index = 0; index < length; index += 1) buffer[position++] = bytes[index]!;
    else {
      buffer.set(bytes, position);
      position += length;
    }
    this.position = position;
  }

  /** A property's value, as `writePlainObject` writes it: a refusal names the property, in `container`. */
  writeProperty(container: object, key: string, value: unknown): void {
    try {
      this.write(value);
    } catch (error) {
      throw throwing(error).passing(container, StepKind.Property, key);
    }
  }

  /** The encoded bytes: shared with the scratch buffer when small, else in a buffer of their own. */
  private finish(): Uint8Array {
    const scratchLength = this.position - this.start;
    const length = scratchLength + this.chunkBytes;
    if (length > this.maxBytes) throw new Refusal(RefusalKind.TooLarge, '', length);
    if (this.chunks.length === 0) {
      if (length < SHARE_BELOW_BYTES && this.buffer.length <= MAX_SHARED_BUFFER_BYTES) {
        return new Uint8Array(this.buffer.buffer, this.buffer.byteOffset + this.start, length);
      }
      const owned = new Uint8Array(allocate(length).buffer, 0, length);
      owned.set(this.buffer.subarray(this.start, this.position));
      this.position = this.start;
      return owned;
    }
    // Scratch segments and large binaries, each copied once into a buffer of the exact size.
    const owned = new Uint8Array(allocate(length).buffer, 0, length);
    let from = 0;
    let to = 0;
    for (let index = 0; index < this.chunks.length; index += 1) {
      const offset = this.chunkOffsets[index]!;
      owned.set(this.buffer.subarray(this.start + from, this.start + offset), to);
      to += offset - from;
      from = offset;
      const chunk = this.chunks[index]!;
      owned.set(chunk, to);
      to += chunk.byteLength;
    }
    owned.set(this.buffer.subarray(this.start + from, this.position), to);
    this.position = this.start;
    return owned;
  }

  private replaceBuffer(buffer: Utf8Buffer): void {
    this.buffer = buffer;
    this.view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }

  /**
   * Makes room for `needed` more bytes. `exact`: they will be written (so the cap applies to
   * them); otherwise `needed` is an upper bound and only what is written so far is checked.
   */
  private grow(needed: number, exact: boolean): void {
    const used = this.position - this.start;
    const committed = used + this.chunkBytes + (exact ? needed : 0);
    if (committed > this.maxBytes) throw new Refusal(RefusalKind.TooLarge, '', committed);
    const size = Math.max(this.buffer.length * 2, used + needed + SCRATCH_BYTES);
    const next = allocate(size);
    this.buffer.copy(next, 0, this.start, this.position);
    this.replaceBuffer(next);
    this.start = 0;
    this.position = used;
  }

  private write(value: unknown): void {
    switch (typeof value) {
      case 'string':
        this.writeString(value);
        return;
      case 'number':
        this.writeNumber(value);
        return;
      case 'object':
        if (value === null) {
          if (this.position >= this.buffer.length) this.grow(1, true);
          this.buffer[this.position++] = 0xc0;
        } else {
          this.writeObject(value);
        }
        return;
      case 'boolean':
        if (this.position >= this.buffer.length) this.grow(1, true);
        this.buffer[this.position++] = value ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        this.writeUndefined(0);
        return;
      case 'bigint':
        this.writeBigInt(value);
        return;
      case 'function':
        throw new Refusal(RefusalKind.Unsupported, 'is a function: code cannot cross (the task module holds the code; send data)', value);
      default:
        throw new Refusal(RefusalKind.Unsupported, `is a ${typeof value}: it cannot cross (only data can)`, value);
    }
  }

  writeNumber(value: number): void {
    if (this.position + 9 > this.buffer.length) this.grow(9, false);
    const buffer = this.buffer;
    const position = this.position;
    if (value >>> 0 === value) {
      if (value < 0x80) {
        if (value === 0 && 1 / value < 0) {
          buffer[position] = 0xcb; // -0 keeps its sign as a float64
          this.view.setFloat64(position + 1, value);
          this.position = position + 9;
        } else {
          buffer[position] = value;
          this.position = position + 1;
        }
      } else if (value < 0x100) {
        buffer[position] = 0xcc;
        buffer[position + 1] = value;
        this.position = position + 2;
      } else if (value < 0x10000) {
        buffer[position] = 0xcd;
        buffer[position + 1] = value >>> 8;
        buffer[position + 2] = value & 0xff;
        this.position = position + 3;
      } else {
        buffer[position] = 0xce;
        this.view.setUint32(position + 1, value);
        this.position = position + 5;
      }
    } else if (value >> 0 === value) {
      if (value >= -0x20) {
        buffer[position] = value & 0xff;
        this.position = position + 1;
      } else if (value >= -0x80) {
        buffer[position] = 0xd0;
        buffer[position + 1] = value & 0xff;
        this.position = position + 2;
      } else if (value >= -0x8000) {
        buffer[position] = 0xd1;
        this.view.setInt16(position + 1, value);
        this.position = position + 3;
      } else {
        buffer[position] = 0xd2;
        this.view.setInt32(position + 1, value);
        this.position = position + 5;
      }
    } else {
      buffer[position] = 0xcb;
      this.view.setFloat64(position + 1, value);
      this.position = position + 9;
    }
  }

  writeString(value: string): void {
    const length = value.length;
    if (length < 32) {
      // Optimistic fixstr header; moved when the UTF-8 form turns out longer.
      if (this.position + length * 3 + 5 > this.buffer.length) this.grow(length * 3 + 5, false);
      const buffer = this.buffer;
      const start = this.position;
      let at = start + 1;
      for (let index = 0; index < length; index += 1) {
        const code = value.charCodeAt(index);
        if (code < 0x80) {
          buffer[at++] = code;
        } else if (code < 0x800) {
          buffer[at++] = 0xc0 | (code >> 6);
          buffer[at++] = 0x80 | (code & 0x3f);
        } else if (code < 0xd800 || code > 0xdfff) {
          buffer[at++] = 0xe0 | (code >> 12);
          buffer[at++] = 0x80 | ((code >> 6) & 0x3f);
          buffer[at++] = 0x80 | (code & 0x3f);
        } else {
          const next = code <= 0xdbff && index + 1 < length ? value.charCodeAt(index + 1) : 0;
          if (next < 0xdc00 || next > 0xdfff) {
            this.writeUtf16String(value); // a lone surrogate: UTF-8 cannot hold it
            return;
          }
          const point = 0x10000 + ((code & 0x3ff) << 10) + (next & 0x3ff);
          index += 1;
          buffer[at++] = 0xf0 | (point >> 18);
          buffer[at++] = 0x80 | ((point >> 12) & 0x3f);
          buffer[at++] = 0x80 | ((point >> 6) & 0x3f);
          buffer[at++] = 0x80 | (point & 0x3f);
        }
      }
      const byteLength = at - start - 1;
      if (byteLength < 32) {
        buffer[start] = 0xa0 | byteLength;
        this.position = at;
      } else {
        buffer.copyWithin(start + 2, start + 1, at);
        buffer[start] = 0xd9;
        buffer[start + 1] = byteLength;
        this.position = at + 1;
      }
      return;
    }
    if (isWellFormed !== undefined && !isWellFormed.call(value)) {
      this.writeUtf16String(value);
      return;
    }
    if (length > MEASURE_STRINGS_LONGER_THAN) {
      const byteLength = Buffer.byteLength(value, 'utf8');
      const header = byteLength < 0x100 ? 2 : byteLength < 0x10000 ? 3 : 5;
      if (this.position + header + byteLength > this.buffer.length) this.grow(header + byteLength, true);
      this.writeStringHeader(this.position, byteLength);
      this.buffer.utf8Write(value, this.position + header, byteLength);
      this.position += header + byteLength;
      return;
    }
    // Header sized from the length in UTF-16 units (a lower bound of the UTF-8 length), moved if needed.
    if (this.position + length * 3 + 5 > this.buffer.length) this.grow(length * 3 + 5, false);
    const start = this.position;
    const guess = length < 0x100 ? 2 : 3;
    const byteLength = this.buffer.utf8Write(value, start + guess, this.buffer.length - start - guess);
    const header = byteLength < 0x100 ? 2 : byteLength < 0x10000 ? 3 : 5;
    if (header !== guess) this.buffer.copyWithin(start + header, start + guess, start + guess + byteLength);
    this.writeStringHeader(start, byteLength);
    this.position = start + header + byteLength;
  }

  private writeStringHeader(at: number, byteLength: number): void {
    const buffer = this.buffer;
    if (byteLength < 0x100) {
      buffer[at] = 0xd9;
      buffer[at + 1] = byteLength;
    } else if (byteLength < 0x10000) {
      buffer[at] = 0xda;
      buffer[at + 1] = byteLength >>> 8;
      buffer[at + 2] = byteLength & 0xff;
    } else {
      buffer[at] = 0xdb;
      this.view.setUint32(at + 1, byteLength);
    }
  }

  private writeUtf16String(value: string): void {
    const byteLength = value.length * 2;
    this.writeExtensionHeader(ExtensionType.Utf16String, byteLength);
    if (this.position + byteLength > this.buffer.length) this.grow(byteLength, true);
    this.buffer.write(value, this.position, byteLength, 'utf16le');
    this.position += byteLength;
  }

  private writeUndefined(data: 0 | 1): void {
    if (this.position + 3 > this.buffer.length) this.grow(3, true);
    const buffer = this.buffer;
    buffer[this.position] = 0xd4;
    buffer[this.position + 1] = ExtensionType.Undefined;
    buffer[this.position + 2] = data;
    this.position += 3;
  }

  /** An extension header for data of a known length (fixext where the length allows). */
  private writeExtensionHeader(type: number, length: number): void {
    if (this.position + 6 > this.buffer.length) this.grow(6, true);
    const buffer = this.buffer;
    const at = this.position;
    const fixed = length === 1 ? 0xd4 : length === 2 ? 0xd5 : length === 4 ? 0xd6 : length === 8 ? 0xd7 : length === 16 ? 0xd8 : 0;
    if (fixed !== 0) {
      buffer[at] = fixed;
      buffer[at + 1] = type & 0xff;
      this.position = at + 2;
    } else if (length < 0x100) {
      buffer[at] = 0xc7;
      buffer[at + 1] = length;
      buffer[at + 2] = type & 0xff;
      this.position = at + 3;
    } else if (length < 0x10000) {
      buffer[at] = 0xc8;
      buffer[at + 1] = length >>> 8;
      buffer[at + 2] = length & 0xff;
      buffer[at + 3] = type & 0xff;
      this.position = at + 4;
    } else {
      buffer[at] = 0xc9;
      this.view.setUint32(at + 1, length);
      buffer[at + 5] = type & 0xff;
      this.position = at + 6;
    }
  }

  /**
   * Reserves the largest extension header for data written next; `endExtension` sets it. Returns
   * its offset from `start` (the scratch buffer may be replaced while the data is written).
   */
  private beginExtension(): number {
    if (this.position + 6 > this.buffer.length) this.grow(6, true);
    const offset = this.position - this.start;
    this.position += 6;
    return offset;
  }

  /** Writes the smallest header for what was written since `beginExtension`, moving the data back. */
  private endExtension(type: number, offset: number, chunkBytesBefore: number): void {
    const at = this.start + offset;
    const dataStart = at + 6;
    const length = this.position - dataStart + (this.chunkBytes - chunkBytesBefore);
    if (length >= 0x10000) {
      // ext 32 is the smallest header here (and data holding a large binary always lands here,
      // so nothing after a chunk's offset ever moves).
      this.buffer[at] = 0xc9;
      this.view.setUint32(at + 1, length);
      this.buffer[at + 5] = type & 0xff;
      return;
    }
    const end = this.position;
    this.position = at;
    this.writeExtensionHeader(type, length);
    const headerEnd = this.position;
    this.buffer.copyWithin(headerEnd, dataStart, end);
    this.position = headerEnd + (end - dataStart);
  }

  /** A map or array header for `count` entries at the current position. */
  private writeContainerHeader(count: number, fix: number, sixteen: number, thirtyTwo: number): void {
    if (this.position + 5 > this.buffer.length) this.grow(5, true);
    const buffer = this.buffer;
    const at = this.position;
    if (count < 16) {
      buffer[at] = fix | count;
      this.position = at + 1;
    } else if (count < 0x10000) {
      buffer[at] = sixteen;
      buffer[at + 1] = count >>> 8;
      buffer[at + 2] = count & 0xff;
      this.position = at + 3;
    } else {
      buffer[at] = thirtyTwo;
      this.view.setUint32(at + 1, count);
      this.position = at + 5;
    }
  }

  private enter(container: object, levels: number): void {
    this.depth += levels;
    if (this.depth > MAX_NESTING_DEPTH) throw new Refusal(RefusalKind.TooDeep, '', container);
  }

  private writeObject(value: object): void {
    const prototype = Object.getPrototypeOf(value) as object | null;
    if (prototype === Object.prototype) this.writePlainObject(value);
    else if (prototype === Array.prototype) this.writeArray(value as unknown[]);
    else this.writeOther(value, prototype);
  }

  private writePlainObject(object: object): void {
    this.enter(object, 1);
    const keys = Object.keys(object);
    const symbols = Object.getOwnPropertySymbols(object);
    if (symbols.length !== 0) this.checkSymbolKeys(object, symbols);
    const count = keys.length;
    // The header is sized for every key; properties holding undefined are then left out.
    // (Offsets from `start`: the scratch buffer may be replaced while the properties are written.)
    const headerOffset = this.position - this.start;
    const chunkBytesBefore = this.chunkBytes;
    this.writeContainerHeader(count, 0x80, 0xde, 0xdf);
    let written = 0;
    let index = 0;
    try {
      for (; index < count; index += 1) {
        const key = keys[index]!;
        const item = (object as Record<string, unknown>)[key];
        if (item === undefined) continue;
        this.writeString(key);
        this.write(item);
        written += 1;
      }
    } catch (error) {
      throw throwing(error).passing(object, StepKind.Property, keys[index]!);
    }
    if (written !== count) this.fixMapHeader(this.start + headerOffset, count, written, chunkBytesBefore);
    this.depth -= 1;
  }

  /** A map header written for `reserved` entries that holds `written`: the smallest header when nothing large follows it. */
  private fixMapHeader(at: number, reserved: number, written: number, chunkBytesBefore: number): void {
    const buffer = this.buffer;
    if (reserved < 16) {
      buffer[at] = 0x80 | written;
      return;
    }
    const reservedSize = reserved < 0x10000 ? 3 : 5;
    const size = written < 16 ? 1 : written < 0x10000 ? 3 : 5;
    if (size === reservedSize || this.chunkBytes !== chunkBytesBefore) {
      // Same size, or data holding a large binary follows: keep the header size, set the count.
      if (reservedSize === 3) {
        buffer[at + 1] = written >>> 8;
        buffer[at + 2] = written & 0xff;
      } else {
        this.view.setUint32(at + 1, written);
      }
      return;
    }
    buffer.copyWithin(at + size, at + reservedSize, this.position);
    this.position -= reservedSize - size;
    if (size === 1) buffer[at] = 0x80 | written;
    else {
      buffer[at] = 0xde;
      buffer[at + 1] = written >>> 8;
      buffer[at + 2] = written & 0xff;
    }
  }

  private checkSymbolKeys(object: object, symbols: symbol[]): void {
    for (const symbol of symbols) {
      if (propertyIsEnumerable.call(object, symbol)) {
        throw new Refusal(RefusalKind.Unsupported, `has a symbol key ${String(symbol)}: symbol-keyed properties cannot cross`, object);
      }
    }
  }

  private writeArray(array: unknown[]): void {
    this.enter(array, 1);
    const length = array.length;
    this.writeContainerHeader(length, 0x90, 0xdc, 0xdd);
    let index = 0;
    try {
      for (; index < length; index += 1) {
        const item = array[index];
        if (item === undefined) this.writeUndefined(index in array ? 0 : 1);
        else this.write(item);
      }
    } catch (error) {
      throw throwing(error).passing(array, StepKind.Index, index);
    }
    this.depth -= 1;
  }

  /** Everything but plain objects and arrays: built-in types by their brand, then class instances. */
  private writeOther(value: object, prototype: object | null): void {
    if (prototype === null) return this.writePlainObject(value);
    if (ArrayBuffer.isView(value)) return this.writeView(value);
    if (types.isDate(value)) return this.writeDate(value);
    if (types.isMap(value)) return this.writeMap(value);
    if (types.isSet(value)) return this.writeSet(value);
    if (Array.isArray(value)) {
      if (this.hasMethods(prototype, true)) throw this.classRefusal(value);
      return this.writeArray(value);
    }
    if (types.isNativeError(value) || value instanceof Error) return this.writeError(value as Error);
    if (types.isRegExp(value)) return this.writeRegExp(value);
    if (types.isBoxedPrimitive(value)) return this.writeBoxedPrimitive(value);
    if (types.isArrayBuffer(value)) return this.writeBinaryView(BinaryViewKind.ArrayBuffer, new Uint8Array(value), 1);
    if (types.isSharedArrayBuffer(value)) {
      throw new Refusal(RefusalKind.Unsupported, 'is a SharedArrayBuffer: shared memory cannot cross (copy it into an ArrayBuffer or a typed array)', value);
    }
    if (types.isPromise(value)) throw new Refusal(RefusalKind.Unsupported, 'is a Promise: await it and send its value', value);
    if (types.isWeakMap(value)) throw new Refusal(RefusalKind.Unsupported, 'is a WeakMap: its entries cannot be read (use a Map)', value);
    if (types.isWeakSet(value)) throw new Refusal(RefusalKind.Unsupported, 'is a WeakSet: its members cannot be read (use a Set)', value);
    if (typeof WeakRef === 'function' && value instanceof WeakRef) throw new Refusal(RefusalKind.Unsupported, 'is a WeakRef: it cannot cross', value);
    if (this.hasMethods(prototype, false)) throw this.classRefusal(value);
    // An instance of a class without methods crosses as its own enumerable properties.
    this.writePlainObject(value);
  }

  private classRefusal(value: object): Refusal {
    const name = describeValue(value);
    return new Refusal(
      RefusalKind.Unsupported,
      `is an instance of ${name}, a class with methods: only its data would cross (send plain data and rebuild the ${name} in the task)`,
      value,
    );
  }

  /**
   * Whether anything between `prototype` and the root of its chain (the Object.prototype, or for
   * arrays the Array.prototype, of any realm) has a method or an accessor other than `constructor`.
   */
  private hasMethods(prototype: object, array: boolean): boolean {
    const cache = (this.methodCache ??= new Map());
    const known = cache.get(prototype);
    if (known !== undefined) return known;
    let found = false;
    for (let current: object | null = prototype; current !== null && !found; current = Object.getPrototypeOf(current) as object | null) {
      if (array ? Array.isArray(current) : Object.getPrototypeOf(current) === null && hasOwn.call(current, 'hasOwnProperty')) break;
      for (const key of Reflect.ownKeys(current)) {
        if (key === 'constructor') continue;
        const descriptor = Object.getOwnPropertyDescriptor(current, key);
        if (descriptor !== undefined && (typeof descriptor.value === 'function' || descriptor.get !== undefined || descriptor.set !== undefined)) {
          found = true;
          break;
        }
      }
    }
    cache.set(prototype, found);
    return found;
  }

  private writeView(view: ArrayBufferView): void {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    if (types.isUint8Array(view)) {
      this.writeBin(bytes);
      return;
    }
    if (types.isDataView(view)) {
      this.writeBinaryView(BinaryViewKind.DataView, bytes, 1);
      return;
    }
    const name = typedArrayName.call(view);
    const kind = name === undefined ? undefined : kindByTypedArrayName.get(name);
    if (kind === undefined) throw new Refusal(RefusalKind.Unsupported, `is a ${describeValue(view)}, a view tsmw cannot send`, view);
    this.writeBinaryView(kind, bytes, (view as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1);
  }

  private writeBin(bytes: Uint8Array): void {
    const length = bytes.byteLength;
    if (this.position + 5 > this.buffer.length) this.grow(5, true);
    const buffer = this.buffer;
    const at = this.position;
    if (length < 0x100) {
      buffer[at] = 0xc4;
      buffer[at + 1] = length;
      this.position = at + 2;
    } else if (length < 0x10000) {
      buffer[at] = 0xc5;
      buffer[at + 1] = length >>> 8;
      buffer[at + 2] = length & 0xff;
      this.position = at + 3;
    } else {
      buffer[at] = 0xc6;
      this.view.setUint32(at + 1, length);
      this.position = at + 5;
    }
    this.writeBytes(bytes, 1);
  }

  private writeBinaryView(kind: number, bytes: Uint8Array, elementSize: number): void {
    this.writeExtensionHeader(ExtensionType.BinaryView, bytes.byteLength + 1);
    if (this.position >= this.buffer.length) this.grow(1, true);
    this.buffer[this.position++] = kind;
    this.writeBytes(bytes, elementSize);
  }

  /** Raw bytes (elements little-endian on the wire): small ones into the scratch buffer, large ones kept for the final copy. */
  private writeBytes(bytes: Uint8Array, elementSize: number): void {
    const source = hostIsLittleEndian || elementSize === 1 ? bytes : swapBytes(bytes.slice(), elementSize);
    const length = source.byteLength;
    if (length >= LARGE_BINARY_BYTES) {
      const total = this.position - this.start + this.chunkBytes + length;
      if (total > this.maxBytes) throw new Refusal(RefusalKind.TooLarge, '', total);
      this.chunkOffsets.push(this.position - this.start);
      this.chunks.push(source);
      this.chunkBytes += length;
      return;
    }
    if (this.position + length > this.buffer.length) this.grow(length, true);
    this.buffer.set(source, this.position);
    this.position += length;
  }

  private writeBigInt(value: bigint): void {
    let bytes: Uint8Array;
    if (value >= INT64_MIN && value < INT64_LIMIT) {
      bigIntScratch.setBigInt64(0, value);
      const all = new Uint8Array(bigIntScratch.buffer);
      let first = 0;
      // Drop leading bytes that only repeat the sign.
      while (first < 7 && ((all[first] === 0 && all[first + 1]! < 0x80) || (all[first] === 0xff && all[first + 1]! >= 0x80))) first += 1;
      bytes = all.subarray(first);
    } else {
      const negative = value < 0n;
      let hex = (negative ? ~value : value).toString(16);
      if (hex.length % 2 === 1) hex = `0${hex}`;
      if (hex.charCodeAt(0) >= 0x38 /* '8' */) hex = `00${hex}`;
      bytes = Buffer.from(hex, 'hex');
      if (negative) for (let index = 0; index < bytes.length; index += 1) bytes[index] = ~bytes[index]! & 0xff;
    }
    this.writeExtensionHeader(ExtensionType.BigInt, bytes.byteLength);
    this.writeBytes(bytes, 1);
  }

  private writeDate(date: Date): void {
    const time = Date.prototype.getTime.call(date);
    if (Number.isNaN(time)) {
      this.writeExtensionHeader(ExtensionType.InvalidDate, 8);
      if (this.position + 8 > this.buffer.length) this.grow(8, true);
      this.view.setFloat64(this.position, time);
      this.position += 8;
      return;
    }
    const milliseconds = ((time % 1000) + 1000) % 1000;
    const seconds = (time - milliseconds) / 1000;
    if (this.position + 15 > this.buffer.length) this.grow(15, true);
    const buffer = this.buffer;
    const at = this.position;
    if (milliseconds === 0 && seconds >= 0 && seconds < 0x100000000) {
      buffer[at] = 0xd6;
      buffer[at + 1] = 0xff;
      this.view.setUint32(at + 2, seconds);
      this.position = at + 6;
    } else if (seconds >= 0 && seconds < 0x400000000) {
      buffer[at] = 0xd7;
      buffer[at + 1] = 0xff;
      this.view.setUint32(at + 2, milliseconds * 4_000_000 + Math.floor(seconds / 0x100000000));
      this.view.setUint32(at + 6, seconds % 0x100000000);
      this.position = at + 10;
    } else {
      buffer[at] = 0xc7;
      buffer[at + 1] = 12;
      buffer[at + 2] = 0xff;
      this.view.setUint32(at + 3, milliseconds * 1_000_000);
      this.view.setBigInt64(at + 7, BigInt(seconds));
      this.position = at + 15;
    }
  }

  private writeMap(map: Map<unknown, unknown>): void {
    this.enter(map, 2);
    const chunkBytesBefore = this.chunkBytes;
    const at = this.beginExtension();
    this.writeContainerHeader(map.size, 0x80, 0xde, 0xdf);
    let index = 0;
    let key: unknown;
    let writingKey = true;
    try {
      for (const entry of map) {
        key = entry[0];
        writingKey = true;
        this.write(key);
        writingKey = false;
        this.write(entry[1]);
        index += 1;
      }
    } catch (error) {
      throw throwing(error).passing(map, writingKey ? StepKind.MapKey : StepKind.MapValue, index, writingKey ? undefined : key);
    }
    this.endExtension(ExtensionType.Map, at, chunkBytesBefore);
    this.depth -= 2;
  }

  private writeSet(set: Set<unknown>): void {
    this.enter(set, 2);
    const chunkBytesBefore = this.chunkBytes;
    const at = this.beginExtension();
    this.writeContainerHeader(set.size, 0x90, 0xdc, 0xdd);
    let index = 0;
    try {
      for (const member of set) {
        this.write(member);
        index += 1;
      }
    } catch (error) {
      throw throwing(error).passing(set, StepKind.SetMember, index);
    }
    this.endExtension(ExtensionType.Set, at, chunkBytesBefore);
    this.depth -= 2;
  }

  private writeRegExp(regExp: RegExp): void {
    this.enter(regExp, 2);
    const source = (Object.getOwnPropertyDescriptor(RegExp.prototype, 'source')!.get as (this: RegExp) => string).call(regExp);
    const flags = (Object.getOwnPropertyDescriptor(RegExp.prototype, 'flags')!.get as (this: RegExp) => string).call(regExp);
    const at = this.beginExtension();
    this.writeContainerHeader(2, 0x90, 0xdc, 0xdd);
    this.writeString(source);
    this.writeString(flags);
    this.endExtension(ExtensionType.RegExp, at, this.chunkBytes);
    this.depth -= 2;
  }

  private writeBoxedPrimitive(box: object): void {
    this.enter(box, 1);
    let primitive: unknown;
    if (types.isNumberObject(box)) primitive = Number.prototype.valueOf.call(box);
    else if (types.isStringObject(box)) primitive = String.prototype.valueOf.call(box);
    else if (types.isBooleanObject(box)) primitive = Boolean.prototype.valueOf.call(box);
    else if (types.isBigIntObject(box)) primitive = BigInt.prototype.valueOf.call(box);
    else throw new Refusal(RefusalKind.Unsupported, 'is a Symbol object: symbols cannot cross', box);
    const chunkBytesBefore = this.chunkBytes;
    const at = this.beginExtension();
    this.write(primitive);
    this.endExtension(ExtensionType.BoxedPrimitive, at, chunkBytesBefore);
    this.depth -= 1;
  }

  private writeError(error: Error): void {
    this.enter(error, 2);
    let field = 'name';
    try {
      const name = error.name;
      field = 'message';
      const message = error.message;
      field = 'stack';
      const stack = error.stack;
      field = 'cause';
      const hasCause = hasOwn.call(error, 'cause');
      const cause = hasCause ? error.cause : undefined;
      field = 'errors';
      const errors = hasOwn.call(error, 'errors') ? (error as { errors?: unknown }).errors : undefined;
      const extraKeys: string[] = [];
      for (const key of Object.keys(error)) {
        if (!errorFields.has(key) && (error as unknown as Record<string, unknown>)[key] !== undefined) extraKeys.push(key);
      }
      const chunkBytesBefore = this.chunkBytes;
      const at = this.beginExtension();
      const count = 2 + (typeof stack === 'string' ? 1 : 0) + (hasCause ? 1 : 0) + (Array.isArray(errors) ? 1 : 0) + (extraKeys.length > 0 ? 1 : 0);
      this.writeContainerHeader(count, 0x80, 0xde, 0xdf);
      this.writeString('name');
      this.writeString(typeof name === 'string' ? name : 'Error');
      this.writeString('message');
      this.writeString(typeof message === 'string' ? message : String(message ?? ''));
      if (typeof stack === 'string') {
        this.writeString('stack');
        this.writeString(stack);
      }
      if (hasCause) {
        field = 'cause';
        this.writeString('cause');
        this.write(cause);
      }
      if (Array.isArray(errors)) {
        field = 'errors';
        this.writeString('errors');
        this.write(errors);
      }
      if (extraKeys.length > 0) {
        this.writeString('properties');
        this.enter(error, 1);
        this.writeContainerHeader(extraKeys.length, 0x80, 0xde, 0xdf);
        for (const key of extraKeys) {
          field = key;
          this.writeString(key);
          this.write((error as unknown as Record<string, unknown>)[key]);
        }
        this.depth -= 1;
      }
      this.endExtension(ExtensionType.Error, at, chunkBytesBefore);
    } catch (thrown) {
      throw throwing(thrown).passing(error, StepKind.Property, field);
    }
    this.depth -= 2;
  }
}

/** What `encodeParts` gives its body to write with. */
export interface PartsWriter {
  /** How many bytes the encoding has so far (where the next part starts in the result). */
  bytesWritten(): number;
  writeRaw(bytes: Uint8Array): void;
  writeString(value: string): void;
  writeNumber(value: number): void;
  writeProperty(container: object, key: string, value: unknown): void;
}

let idleWriter: Writer | undefined = new Writer();

/**
 * Encodes a value with tsmw's wire format. The bytes are never overwritten later and may be
 * kept. Small encodings may share their `ArrayBuffer` with other encodings, so a caller that
 * wants to transfer bytes to another thread must copy them first; large ones get a buffer of
 * their own, into which each large binary is copied once.
 *
 * A value that cannot cross throws `UnsupportedValueError` whose path starts with `root`
 * (`input.items[3] is a function`); with `root` empty, the top-level value's property names
 * start the path (`input.items[3]` for an envelope's `input`). Over `maxBytes`:
 * `EnvelopeTooLargeError`; a getter that throws: `InvalidArgumentError` naming the path.
 */
export function encodeValue(value: unknown, maxBytes: number = DEFAULT_MAX_ENVELOPE_BYTES, what = 'envelope', root = 'value'): Uint8Array {
  checkMaxBytes(maxBytes);
  const writer = idleWriter ?? new Writer();
  idleWriter = undefined;
  try {
    return writer.encode(value, maxBytes);
  } catch (error) {
    throw refusalError(throwing(error), root, what, maxBytes);
  } finally {
    idleWriter = writer;
  }
}

/** The error a refusal becomes: paths and cycles are worked out here, on the error path only. */
function refusalError(refusal: Refusal, root: string, what: string, maxBytes: number): Error {
  const steps: PathStep[] = refusal.steps.slice().reverse();
  const named = (path: string): string => (path === '' ? `the ${what}` : path);
  const path = named(pathOf(root, steps, steps.length));
  if (refusal.kind === RefusalKind.TooDeep || refusal.kind === RefusalKind.TooLarge) {
    const chain: unknown[] = steps.map((step) => step.container);
    if (refusal.kind === RefusalKind.TooDeep) chain.push(refusal.value);
    const cycle = findCycle(chain);
    if (cycle !== undefined) {
      const [index, earlier] = cycle;
      return new UnsupportedValueError(named(pathOf(root, steps, index)), `is a circular reference to ${named(pathOf(root, steps, earlier))}`);
    }
    if (refusal.kind === RefusalKind.TooLarge) return new EnvelopeTooLargeError(refusal.value as number, maxBytes, what);
    return new UnsupportedValueError(path, `is nested more than ${MAX_NESTING_DEPTH} levels deep`);
  }
  if (refusal.kind === RefusalKind.Threw) {
    const cause = refusal.cause;
    if (TsmwError.isInstance(cause)) return cause;
    const message = cause instanceof Error ? cause.message : String(cause);
    return new InvalidArgumentError(`Cannot encode ${path}: reading it threw ${message}`, { cause });
  }
  return new UnsupportedValueError(path, refusal.reason);
}

/**
 * Encodes a top-level map whose parts `body` writes: constant parts as bytes encoded once
 * (`writeRaw`), the rest with the writer. It must give the bytes `encodeValue` gives for the
 * same map, and refusals the same errors: values go through `writeProperty` with the name of
 * their property (and `root` empty, so that the path starts with it).
 */
export function encodeParts<Argument>(body: (writer: PartsWriter, argument: Argument) => void, argument: Argument, maxBytes: number, what: string): Uint8Array {
  checkMaxBytes(maxBytes);
  const writer = idleWriter ?? new Writer();
  idleWriter = undefined;
  try {
    return writer.encodeParts(body, argument, maxBytes);
  } catch (error) {
    throw refusalError(throwing(error), '', what, maxBytes);
  } finally {
    idleWriter = writer;
  }
}
