import { EnvelopeDecodeError } from '../errors/envelope-decode-error.js';
import { EnvelopeTooLargeError } from '../errors/envelope-too-large-error.js';
import { BinaryViewKind, checkMaxBytes, ExtensionType, hostIsLittleEndian, msgpackrExtensionTypes, swapBytes, typedArrayByKind, type Utf8Buffer } from './codec.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, MAX_NESTING_DEPTH } from './limits.js';
import { describeValue } from './value-path.js';

/** Thrown inside the reader, never seen outside it: `decodeValue` turns it into an `EnvelopeDecodeError`. */
class DecodeFailure {
  constructor(readonly message: string) {}
}

function failure(message: string): DecodeFailure {
  return new DecodeFailure(message);
}

const hasOwn = Object.prototype.hasOwnProperty;
const truncatedMessage = 'the bytes end in the middle of a value';
const fromCharCode = String.fromCharCode;
const standardErrors: Record<string, ErrorConstructor | AggregateErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
  AggregateError,
};

interface KeyCacheEntry {
  readonly bytes: Uint8Array;
  readonly text: string;
}
/** Map keys recently read, by a hash of their bytes: repeated keys are compared, not decoded again. */
const keyCache: Array<KeyCacheEntry | undefined> = new Array(4096);

const emptyBytes = new Uint8Array(0);
/** The reader keeps its views of an input's buffer up to this size between decodes (see `decode`). */
const KEEP_BUFFER_BYTES = 1024 * 1024;
const emptyText = Buffer.alloc(0) as Utf8Buffer;
const emptyView = new DataView(emptyBytes.buffer);

/** Reads one MessagePack value, refusing anything outside tsmw's wire format. */
class Reader {
  private source: ArrayBufferLike | undefined;
  private bytes: Uint8Array = emptyBytes;
  private text: Utf8Buffer = emptyText;
  private view: DataView = emptyView;
  private position = 0;
  private end = 0;
  private depth = 0;
  /** Array items that may still be allocated: every item takes at least one byte. */
  private budget = 0;

  decode(bytes: Uint8Array): unknown {
    // Views over the whole ArrayBuffer, kept while the next input shares it: the results of a
    // batch are views into one buffer, read one after the other, and making three views per
    // result cost more than reading a small one. Positions are the buffer's own offsets.
    this.open(bytes, 0);
    const value = this.read();
    if (this.position !== this.end) throw failure(`${this.end - this.position} bytes follow the value`);
    return value;
  }

  /**
   * The fast path of `decodeResultEnvelope` (see result-envelope.ts): a successful result in the
   * layout tsmw's encoder writes, read without the intermediate map, and its task id compared
   * with the one expected rather than read into a new string. Undefined for anything else: the
   * general path reads those bytes (and gives the errors).
   */
  readCanonicalResult(bytes: Uint8Array, layout: CanonicalResultLayout, expectedTaskId: string | undefined): Record<string, unknown> | undefined {
    this.open(bytes, 1);
    const all = this.bytes;
    // Seven fields (no console, no host): kind, version, taskId, attempt, ok, output, timing; or six without output.
    const header = all[this.position];
    if (header !== 0x87 && header !== 0x86) return undefined;
    this.position += 1;
    if (!this.skip(layout.kindAndVersionKey) || all[this.position] !== layout.version) return undefined;
    this.position += 1;
    if (!this.skip(layout.taskIdKey)) return undefined;
    let taskId: string | undefined;
    const token = all[this.position]!;
    if (token >= 0xa0 && token <= 0xbf && expectedTaskId !== undefined && (token & 0x1f) === expectedTaskId.length) {
      const start = this.position + 1;
      const length = token & 0x1f;
      if (start + length > this.end) return undefined;
      let index = 0;
      // ASCII only: a lone byte 0x80-0xff is not the Latin-1 character of that code (it is invalid UTF-8).
      while (index < length && all[start + index] === expectedTaskId.charCodeAt(index) && all[start + index]! < 0x80) index += 1;
      if (index === length) {
        taskId = expectedTaskId;
        this.position = start + length;
      }
    }
    if (taskId === undefined) {
      const value = this.read();
      if (typeof value !== 'string') return undefined;
      taskId = value;
    }
    if (!this.skip(layout.attemptKey)) return undefined;
    const attempt = this.read();
    if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1) return undefined;
    if (!this.skip(layout.okTrueKey)) return undefined;
    let output: unknown;
    if (header === 0x87) {
      if (!this.skip(layout.outputKey)) return undefined;
      output = this.read();
    }
    if (!this.skip(layout.timingKeys[0]!)) return undefined;
    const startedAt = this.read();
    if (!this.skip(layout.timingKeys[1]!)) return undefined;
    const wallMs = this.read();
    if (!this.skip(layout.timingKeys[2]!)) return undefined;
    const cpuMs = this.read();
    if (typeof startedAt !== 'number' || typeof wallMs !== 'number' || typeof cpuMs !== 'number') return undefined;
    if (!Number.isFinite(startedAt) || !Number.isFinite(wallMs) || !Number.isFinite(cpuMs)) return undefined;
    if (this.position !== this.end) return undefined;
    // The object decodeResultEnvelope makes, field for field and in its order.
    const result: Record<string, unknown> = { kind: 'tsmw-result', version: layout.version, taskId, attempt, ok: true, timing: { startedAt, wallMs, cpuMs } };
    result['output'] = output;
    return result;
  }

  /**
   * The fast path of the worker's task-envelope decode (see task-envelope.ts): an envelope in
   * the layout `TaskEnvelopeEncoder` writes, read without the intermediate map. The constant runs
   * (the field names, the kind, the version, the task name and module hash of the previous
   * envelope, or the module hash expected) are compared, not decoded; only the task id, the
   * attempt, the input, a deadline and data file names are read. Undefined for anything else:
   * the general path reads those bytes (and gives the errors).
   */
  readCanonicalTask(bytes: Uint8Array, layout: CanonicalTaskLayout, cache: CanonicalTaskCache): Record<string, unknown> | undefined {
    this.open(bytes, 1);
    const all = this.bytes;
    // Six fields (kind, version, taskId, taskName, moduleHash, attempt), then input, deadline and fileNames when present.
    const header = all[this.position]!;
    if (header < 0x86 || header > 0x89) return undefined;
    let optional = header - 0x86;
    this.position += 1;
    if (!this.skipRun(layout.head)) return undefined;
    const taskId = this.read();
    if (typeof taskId !== 'string') return undefined;
    // `"taskName" <name> "moduleHash" <hash> "attempt"`: the same bytes as the previous envelope's, or read.
    let taskName: string;
    let moduleHash: string;
    const middleStart = this.position;
    if (cache.middle !== undefined && this.skipRun(cache.middle)) {
      taskName = cache.taskName;
      moduleHash = cache.moduleHash;
    } else {
      if (!this.skip(layout.taskNameKey)) return undefined;
      const name = this.read();
      if (typeof name !== 'string') return undefined;
      if (cache.expectedModuleHash !== undefined && this.skipRun(cache.expectedModuleHashField)) moduleHash = cache.expectedModuleHash;
      else {
        if (!this.skip(layout.moduleHashKey)) return undefined;
        const hash = this.read();
        if (typeof hash !== 'string') return undefined;
        moduleHash = hash;
      }
      if (!this.skip(layout.attemptKey)) return undefined;
      taskName = name;
      if (this.position - middleStart <= MAX_CACHED_MIDDLE_BYTES) {
        cache.middle = new DataView(all.slice(middleStart, this.position).buffer);
        cache.taskName = taskName;
        cache.moduleHash = moduleHash;
      }
    }
    const attempt = this.read();
    if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1) return undefined;
    let input: unknown;
    if (optional > 0 && this.skip(layout.inputKey)) {
      optional -= 1;
      input = this.read();
    }
    let deadline: unknown;
    if (optional > 0 && this.skip(layout.deadlineKey)) {
      optional -= 1;
      deadline = this.read();
      if (typeof deadline !== 'number' || !Number.isFinite(deadline)) return undefined;
    }
    let fileNames: unknown;
    if (optional > 0 && this.skip(layout.fileNamesKey)) {
      optional -= 1;
      fileNames = this.read();
      // As the general path checks them (an empty list there is left out: taken that way).
      if (!Array.isArray(fileNames) || fileNames.length === 0 || !fileNames.every((name) => typeof name === 'string')) return undefined;
    }
    if (optional !== 0 || this.position !== this.end) return undefined;
    // The object decodeTaskEnvelope makes, field for field and in its order.
    const envelope: Record<string, unknown> = { kind: 'tsmw-task', version: layout.version, taskId, taskName, moduleHash, attempt, input };
    if (deadline !== undefined) envelope['deadline'] = deadline;
    if (fileNames !== undefined) envelope['fileNames'] = fileNames;
    return envelope;
  }

  /** `skip` for a longer run: compared four bytes at a time. */
  private skipRun(expected: DataView): boolean {
    const view = this.view;
    const at = this.position;
    const length = expected.byteLength;
    if (at + length > this.end) return false;
    let index = 0;
    for (; index + 4 <= length; index += 4) if (view.getInt32(at + index) !== expected.getInt32(index)) return false;
    for (; index < length; index += 1) if (view.getUint8(at + index) !== expected.getUint8(index)) return false;
    this.position = at + length;
    return true;
  }

  /** Moves past `expected` if the bytes here are exactly it. */
  private skip(expected: Uint8Array): boolean {
    const all = this.bytes;
    const at = this.position;
    if (at + expected.length > this.end) return false;
    for (let index = 0; index < expected.length; index += 1) if (all[at + index] !== expected[index]) return false;
    this.position = at + expected.length;
    return true;
  }

  /** Points the reader at `bytes`, viewing its buffer afresh unless the views of it are kept (and it was not resized since). */
  private open(bytes: Uint8Array, depth: number): void {
    const buffer = bytes.buffer;
    if (buffer !== this.source || buffer.byteLength !== this.text.byteLength) {
      this.source = buffer;
      // A plain view: its slice() copies (a Buffer's would not).
      this.bytes = new Uint8Array(buffer);
      this.text = Buffer.from(buffer) as Utf8Buffer;
      this.view = new DataView(buffer);
    }
    this.position = bytes.byteOffset;
    this.end = bytes.byteOffset + bytes.byteLength;
    this.depth = depth;
    this.budget = bytes.byteLength;
  }

  /** Lets go of the input, unless its buffer is small (the reader is kept for the next decode). */
  release(): void {
    if (this.bytes.byteLength <= KEEP_BUFFER_BYTES) return;
    this.source = undefined;
    this.bytes = emptyBytes;
    this.text = emptyText;
    this.view = emptyView;
  }

  private need(count: number): void {
    if (count > this.end - this.position) throw failure(truncatedMessage);
  }

  private read(): unknown {
    if (this.position >= this.end) throw failure(truncatedMessage);
    const token = this.bytes[this.position++]!;
    if (token < 0x80) return token;
    if (token < 0x90) return this.readObject(token & 0x0f);
    if (token < 0xa0) return this.readArray(token & 0x0f);
    if (token < 0xc0) return this.readString(token & 0x1f);
    if (token >= 0xe0) return token - 0x100;
    const view = this.view;
    let value: number;
    switch (token) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        this.need(1);
        return this.readBin(this.bytes[this.position++]!);
      case 0xc5:
        this.need(2);
        value = view.getUint16(this.position);
        this.position += 2;
        return this.readBin(value);
      case 0xc6:
        this.need(4);
        value = view.getUint32(this.position);
        this.position += 4;
        return this.readBin(value);
      case 0xc7:
        this.need(1);
        return this.readExtension(this.bytes[this.position++]!);
      case 0xc8:
        this.need(2);
        value = view.getUint16(this.position);
        this.position += 2;
        return this.readExtension(value);
      case 0xc9:
        this.need(4);
        value = view.getUint32(this.position);
        this.position += 4;
        return this.readExtension(value);
      case 0xca:
        this.need(4);
        value = view.getFloat32(this.position);
        this.position += 4;
        return value;
      case 0xcb:
        this.need(8);
        value = view.getFloat64(this.position);
        this.position += 8;
        return value;
      case 0xcc:
        this.need(1);
        return this.bytes[this.position++];
      case 0xcd:
        this.need(2);
        value = view.getUint16(this.position);
        this.position += 2;
        return value;
      case 0xce:
        this.need(4);
        value = view.getUint32(this.position);
        this.position += 4;
        return value;
      case 0xcf: {
        this.need(8);
        const high = view.getUint32(this.position);
        const low = view.getUint32(this.position + 4);
        const big = high >= 0x200000 ? view.getBigUint64(this.position) : undefined;
        this.position += 8;
        return big ?? high * 0x100000000 + low; // a number when exact, else a bigint
      }
      case 0xd0:
        this.need(1);
        return view.getInt8(this.position++);
      case 0xd1:
        this.need(2);
        value = view.getInt16(this.position);
        this.position += 2;
        return value;
      case 0xd2:
        this.need(4);
        value = view.getInt32(this.position);
        this.position += 4;
        return value;
      case 0xd3: {
        this.need(8);
        const high = view.getInt32(this.position);
        const low = view.getUint32(this.position + 4);
        const big = high >= 0x200000 || high < -0x200000 ? view.getBigInt64(this.position) : undefined;
        this.position += 8;
        return big ?? high * 0x100000000 + low;
      }
      case 0xd4:
        return this.readExtension(1);
      case 0xd5:
        return this.readExtension(2);
      case 0xd6:
        return this.readExtension(4);
      case 0xd7:
        return this.readExtension(8);
      case 0xd8:
        return this.readExtension(16);
      case 0xd9:
        this.need(1);
        return this.readString(this.bytes[this.position++]!);
      case 0xda:
        this.need(2);
        value = view.getUint16(this.position);
        this.position += 2;
        return this.readString(value);
      case 0xdb:
        this.need(4);
        value = view.getUint32(this.position);
        this.position += 4;
        return this.readString(value);
      case 0xdc:
        this.need(2);
        value = view.getUint16(this.position);
        this.position += 2;
        return this.readArray(value);
      case 0xdd:
        this.need(4);
        value = view.getUint32(this.position);
        this.position += 4;
        return this.readArray(value);
      case 0xde:
        this.need(2);
        value = view.getUint16(this.position);
        this.position += 2;
        return this.readObject(value);
      case 0xdf:
        this.need(4);
        value = view.getUint32(this.position);
        this.position += 4;
        return this.readObject(value);
      default:
        throw failure('byte 0xc1 is never used in MessagePack');
    }
  }

  private enter(levels: number): void {
    this.depth += levels;
    if (this.depth > MAX_NESTING_DEPTH) throw failure(`values are nested more than ${MAX_NESTING_DEPTH} levels deep`);
  }

  private readString(length: number): string {
    const start = this.position;
    if (length > this.end - start) throw failure(truncatedMessage);
    const bytes = this.bytes;
    if (length < 16) {
      // Short ASCII strings without a call into the runtime.
      let ascii = 0;
      for (let index = start; index < start + length; index += 1) ascii |= bytes[index]!;
      if (ascii < 0x80) {
        this.position = start + length;
        switch (length) {
          case 0:
            return '';
          case 1:
            return fromCharCode(bytes[start]!);
          case 2:
            return fromCharCode(bytes[start]!, bytes[start + 1]!);
          case 3:
            return fromCharCode(bytes[start]!, bytes[start + 1]!, bytes[start + 2]!);
          case 4:
            return fromCharCode(bytes[start]!, bytes[start + 1]!, bytes[start + 2]!, bytes[start + 3]!);
          default:
            return fromCharCode.apply(null, bytes.subarray(start, start + length) as unknown as number[]);
        }
      }
    }
    this.position = start + length;
    return this.text.utf8Slice(start, start + length);
  }

  /** A map key: short keys come from the cache when their bytes match. */
  private readKey(): string {
    const token = this.bytes[this.position];
    if (token !== undefined && token >= 0xa1 && token <= 0xb8) {
      const length = token & 0x1f;
      const start = this.position + 1;
      if (length > this.end - start) throw failure(truncatedMessage);
      const bytes = this.bytes;
      const hash = ((length << 7) ^ (bytes[start]! << 4) ^ bytes[start + length - 1]! ^ (bytes[start + (length >> 1)]! << 2)) & 0xfff;
      const entry = keyCache[hash];
      if (entry !== undefined && entry.bytes.length === length) {
        const cached = entry.bytes;
        let index = 0;
        while (index < length && cached[index] === bytes[start + index]) index += 1;
        if (index === length) {
          this.position = start + length;
          return entry.text;
        }
      }
      this.position = start;
      const text = this.readString(length);
      keyCache[hash] = { bytes: bytes.slice(start, start + length), text };
      return text;
    }
    const key = this.read();
    if (typeof key === 'string') return key;
    if (typeof key === 'number' || typeof key === 'bigint') return String(key);
    throw failure(`a map key is ${key === null ? 'nil' : `of type ${describeValue(key)}`}: keys of plain maps must be strings or numbers (a Map with other keys is extension ${ExtensionType.Map})`);
  }

  private readObject(count: number): Record<string, unknown> {
    if (count > (this.end - this.position) / 2) throw failure(truncatedMessage);
    this.enter(1);
    const object: Record<string, unknown> = {};
    for (let index = 0; index < count; index += 1) {
      const key = this.readKey();
      const value = this.read();
      // A key named __proto__ becomes an own property (as JSON.parse makes it), never the prototype.
      if (key === '__proto__') Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      else object[key] = value;
    }
    this.depth -= 1;
    return object;
  }

  private readArray(length: number): unknown[] {
    if (length > this.end - this.position || (this.budget -= length) < 0) throw failure(truncatedMessage);
    this.enter(1);
    const array = new Array<unknown>(length);
    const bytes = this.bytes;
    for (let index = 0; index < length; index += 1) {
      const at = this.position;
      // A hole (fixext 1, type 1, data 1) is left a hole.
      if (bytes[at] === 0xd4 && bytes[at + 1] === ExtensionType.Undefined && bytes[at + 2] === 1 && at + 3 <= this.end) {
        this.position = at + 3;
        continue;
      }
      array[index] = this.read();
    }
    this.depth -= 1;
    return array;
  }

  private readBin(length: number): Uint8Array {
    if (length > this.end - this.position) throw failure(truncatedMessage);
    const start = this.position;
    this.position += length;
    return new Uint8Array(this.copyBytes(start, start + length));
  }

  /** The bytes from `start` to `end` in an ArrayBuffer of their own (one copy). */
  private copyBytes(start: number, end: number): ArrayBuffer {
    const bytes = this.bytes;
    if (bytes.buffer instanceof ArrayBuffer) return bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + end);
    const copy = new Uint8Array(end - start);
    copy.set(bytes.subarray(start, end));
    return copy.buffer;
  }

  private readExtension(length: number): unknown {
    if (length + 1 > this.end - this.position) throw failure(truncatedMessage);
    const type = this.bytes[this.position]!;
    const start = this.position + 1;
    const end = start + length;
    this.position = end;
    switch (type) {
      case 0xff:
        return this.readTimestamp(start, length);
      case ExtensionType.Undefined:
        if (length !== 1) throw failure(`extension ${type} (undefined) must hold 1 byte`);
        if (this.bytes[start] === 0) return undefined;
        throw failure(this.bytes[start] === 1 ? 'an array hole outside an array' : `extension ${type} (undefined) holds an unknown byte`);
      case ExtensionType.BigInt:
        return this.readBigInt(start, length);
      case ExtensionType.BinaryView:
        return this.readBinaryView(start, length);
      case ExtensionType.InvalidDate:
        if (length !== 8) throw failure(`extension ${type} (date) must hold 8 bytes`);
        return new Date(this.view.getFloat64(start));
      case ExtensionType.Utf16String:
        if (length % 2 !== 0) throw failure(`extension ${type} (UTF-16 string) must hold an even number of bytes`);
        return this.text.ucs2Slice(start, end);
      case ExtensionType.Map:
      case ExtensionType.Set:
      case ExtensionType.RegExp:
      case ExtensionType.Error:
      case ExtensionType.BoxedPrimitive:
        return this.readNested(type, start, end);
      default:
        throw failure(
          `extension type ${type > 127 ? type - 256 : type} is not part of tsmw's wire format${msgpackrExtensionTypes.has(type) ? ' (it is a msgpackr extension)' : ''}`,
        );
    }
  }

  /** An extension whose data is one MessagePack value, read within the extension's bounds. */
  private readNested(type: number, start: number, end: number): unknown {
    const outerEnd = this.end;
    this.end = end;
    this.position = start;
    this.enter(1);
    let value: unknown;
    switch (type) {
      case ExtensionType.Map:
        value = this.readMap();
        break;
      case ExtensionType.Set:
        value = this.readSet();
        break;
      case ExtensionType.RegExp:
        value = this.readRegExp();
        break;
      case ExtensionType.Error:
        value = this.readError();
        break;
      default:
        value = this.readBoxedPrimitive();
    }
    if (this.position !== end) throw failure(`extension ${type} holds ${end - this.position} bytes after its value`);
    this.depth -= 1;
    this.end = outerEnd;
    return value;
  }

  /** The entry count of a map header (the next token must be one). */
  private readMapHeader(what: string): number {
    this.need(1);
    const token = this.bytes[this.position++]!;
    let count: number;
    if (token >= 0x80 && token <= 0x8f) count = token & 0x0f;
    else if (token === 0xde) {
      this.need(2);
      count = this.view.getUint16(this.position);
      this.position += 2;
    } else if (token === 0xdf) {
      this.need(4);
      count = this.view.getUint32(this.position);
      this.position += 4;
    } else throw failure(`${what} must hold a map`);
    if (count > (this.end - this.position) / 2) throw failure(truncatedMessage);
    return count;
  }

  private readArrayHeader(what: string): number {
    this.need(1);
    const token = this.bytes[this.position++]!;
    let count: number;
    if (token >= 0x90 && token <= 0x9f) count = token & 0x0f;
    else if (token === 0xdc) {
      this.need(2);
      count = this.view.getUint16(this.position);
      this.position += 2;
    } else if (token === 0xdd) {
      this.need(4);
      count = this.view.getUint32(this.position);
      this.position += 4;
    } else throw failure(`${what} must hold an array`);
    if (count > this.end - this.position) throw failure(truncatedMessage);
    return count;
  }

  private readMap(): Map<unknown, unknown> {
    const count = this.readMapHeader('a Map extension');
    this.enter(1);
    const map = new Map<unknown, unknown>();
    for (let index = 0; index < count; index += 1) {
      const key = this.read();
      map.set(key, this.read());
    }
    this.depth -= 1;
    return map;
  }

  private readSet(): Set<unknown> {
    const count = this.readArrayHeader('a Set extension');
    this.enter(1);
    const set = new Set<unknown>();
    for (let index = 0; index < count; index += 1) set.add(this.read());
    this.depth -= 1;
    return set;
  }

  private readRegExp(): RegExp {
    if (this.readArrayHeader('a RegExp extension') !== 2) throw failure('a RegExp extension must hold [source, flags]');
    this.enter(1);
    const source = this.read();
    const flags = this.read();
    this.depth -= 1;
    if (typeof source !== 'string' || typeof flags !== 'string') throw failure('a RegExp extension must hold two strings');
    try {
      return new RegExp(source, flags);
    } catch (error) {
      throw failure(`a RegExp extension holds an invalid expression: ${(error as Error).message}`);
    }
  }

  private readBoxedPrimitive(): object {
    const value = this.read();
    switch (typeof value) {
      case 'number':
      case 'string':
      case 'boolean':
      case 'bigint':
        return Object(value) as object;
      default:
        throw failure('a boxed-primitive extension must hold a number, a string, a boolean or a bigint');
    }
  }

  private readError(): Error {
    const data = this.read();
    if (typeof data !== 'object' || data === null || Object.getPrototypeOf(data) !== Object.prototype) throw failure('an Error extension must hold a map');
    const fields = data as Record<string, unknown>;
    const { name, message, stack, errors, properties } = fields;
    if (typeof name !== 'string' || typeof message !== 'string') throw failure('an Error extension needs a string name and message');
    if (stack !== undefined && typeof stack !== 'string') throw failure('the stack of an Error extension must be a string');
    if (errors !== undefined && !Array.isArray(errors)) throw failure('the errors of an Error extension must be an array');
    if (properties !== undefined && (typeof properties !== 'object' || properties === null || Object.getPrototypeOf(properties) !== Object.prototype)) {
      throw failure('the properties of an Error extension must be a map');
    }
    const options = hasOwn.call(fields, 'cause') ? { cause: fields['cause'] } : undefined;
    const constructor = hasOwn.call(standardErrors, name) ? standardErrors[name]! : Error;
    // Built without capturing a stack here: the stack is the one that was sent.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    let error: Error;
    try {
      error =
        constructor === AggregateError
          ? new AggregateError(errors ?? [], message, options)
          : new (constructor as ErrorConstructor)(message, options);
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    if (error.name !== name) Object.defineProperty(error, 'name', { value: name, writable: true, enumerable: false, configurable: true });
    if (stack === undefined) delete error.stack;
    else Object.defineProperty(error, 'stack', { value: stack, writable: true, enumerable: false, configurable: true });
    if (errors !== undefined && constructor !== AggregateError) {
      Object.defineProperty(error, 'errors', { value: errors, writable: true, enumerable: false, configurable: true });
    }
    if (properties !== undefined) {
      for (const [key, value] of Object.entries(properties)) {
        Object.defineProperty(error, key, { value, writable: true, enumerable: true, configurable: true });
      }
    }
    return error;
  }

  private readBigInt(start: number, length: number): bigint {
    if (length === 0) throw failure(`extension ${ExtensionType.BigInt} (bigint) must hold at least 1 byte`);
    const bytes = this.bytes;
    if (length <= 6) {
      let value = bytes[start]! >= 0x80 ? bytes[start]! - 0x100 : bytes[start]!;
      for (let index = 1; index < length; index += 1) value = value * 256 + bytes[start + index]!;
      return BigInt(value);
    }
    const unsigned = BigInt(`0x${this.text.toString('hex', start, start + length)}`);
    return bytes[start]! >= 0x80 ? unsigned - (1n << BigInt(length * 8)) : unsigned;
  }

  private readBinaryView(start: number, length: number): unknown {
    if (length === 0) throw failure(`extension ${ExtensionType.BinaryView} (binary view) must hold its kind`);
    const kind = this.bytes[start]!;
    const entry = typedArrayByKind[kind];
    if (entry === undefined) throw failure(`extension ${ExtensionType.BinaryView} holds an unknown kind ${kind}`);
    const [constructor, elementSize] = entry;
    if ((length - 1) % elementSize !== 0) throw failure(`extension ${ExtensionType.BinaryView} holds ${length - 1} bytes, not a whole number of ${elementSize}-byte elements`);
    if (kind === BinaryViewKind.Float16Array && constructor === undefined) throw failure('a Float16Array arrived, and this runtime has no Float16Array');
    const buffer = this.copyBytes(start + 1, start + length);
    if (!hostIsLittleEndian && elementSize > 1) swapBytes(new Uint8Array(buffer), elementSize);
    if (kind === BinaryViewKind.ArrayBuffer) return buffer;
    if (kind === BinaryViewKind.DataView) return new DataView(buffer);
    return new constructor!(buffer);
  }

  private readTimestamp(start: number, length: number): Date {
    const view = this.view;
    if (length === 4) return new Date(view.getUint32(start) * 1000);
    let nanoseconds: number;
    let seconds: number;
    if (length === 8) {
      const high = view.getUint32(start);
      nanoseconds = high >>> 2;
      seconds = (high & 0x3) * 0x100000000 + view.getUint32(start + 4);
    } else if (length === 12) {
      nanoseconds = view.getUint32(start);
      seconds = Number(view.getBigInt64(start + 4));
    } else {
      throw failure(`a timestamp (extension -1) must hold 4, 8 or 12 bytes, not ${length}`);
    }
    if (nanoseconds > 999_999_999) throw failure('a timestamp (extension -1) has more than 999,999,999 nanoseconds');
    return new Date(seconds * 1000 + Math.floor(nanoseconds / 1_000_000));
  }
}

/** The constant parts of a result envelope as tsmw's encoder writes them (see `Reader.readCanonicalResult`). */
export interface CanonicalResultLayout {
  /** `"kind" "tsmw-result" "version"`. */
  readonly kindAndVersionKey: Uint8Array;
  /** The version, as a positive fixint. */
  readonly version: number;
  readonly taskIdKey: Uint8Array;
  readonly attemptKey: Uint8Array;
  /** `"ok" true`. */
  readonly okTrueKey: Uint8Array;
  readonly outputKey: Uint8Array;
  /** `"timing" {3 "startedAt"`, `"wallMs"`, `"cpuMs"`. */
  readonly timingKeys: readonly Uint8Array[];
}

/** The constant parts of a task envelope as `TaskEnvelopeEncoder` writes them (see `Reader.readCanonicalTask`). */
export interface CanonicalTaskLayout {
  /** `"kind" "tsmw-task" "version" <version> "taskId"` (after the map header). */
  readonly head: DataView;
  /** The version, as the head holds it. */
  readonly version: number;
  readonly taskNameKey: Uint8Array;
  readonly moduleHashKey: Uint8Array;
  readonly attemptKey: Uint8Array;
  readonly inputKey: Uint8Array;
  readonly deadlineKey: Uint8Array;
  readonly fileNamesKey: Uint8Array;
}

/** What `Reader.readCanonicalTask` keeps between envelopes: the last middle run it read, and the module hash expected. */
export interface CanonicalTaskCache {
  /** `"taskName" <name> "moduleHash" <hash> "attempt"` of the last envelope read, and what it holds. */
  middle: DataView | undefined;
  taskName: string;
  moduleHash: string;
  /** The module hash the worker loaded, and `"moduleHash" <hash>` as it is encoded. */
  expectedModuleHash: string | undefined;
  expectedModuleHashField: DataView;
}

/** A longer middle run (a long task name) is read each time rather than kept. */
const MAX_CACHED_MIDDLE_BYTES = 512;

/**
 * `Reader.readCanonicalTask` for the worker's task-envelope decode: the envelope, or undefined
 * when the bytes are not in the canonical layout or anything in them fails (the general path
 * then reads them and gives the error). The caller has checked the size cap.
 */
export function readCanonicalTask(bytes: Uint8Array, layout: CanonicalTaskLayout, cache: CanonicalTaskCache): Record<string, unknown> | undefined {
  const reader = idleReader ?? new Reader();
  idleReader = undefined;
  try {
    return reader.readCanonicalTask(bytes, layout, cache);
  } catch {
    return undefined;
  } finally {
    reader.release();
    idleReader = reader;
  }
}

/**
 * `Reader.readCanonicalResult` for `decodeResultEnvelope`: the result, or undefined when the
 * bytes are not in the canonical layout or anything in them fails (the general path then reads
 * them and gives the error). The caller has checked the size cap.
 */
export function readCanonicalResult(bytes: Uint8Array, layout: CanonicalResultLayout, expectedTaskId: string | undefined): Record<string, unknown> | undefined {
  const reader = idleReader ?? new Reader();
  idleReader = undefined;
  try {
    return reader.readCanonicalResult(bytes, layout, expectedTaskId);
  } catch {
    return undefined;
  } finally {
    reader.release();
    idleReader = reader;
  }
}

let idleReader: Reader | undefined = new Reader();

/**
 * Decodes bytes in tsmw's wire format. The size is checked before anything is read; anything
 * that is not well-formed MessagePack within tsmw's extensions and nesting limit ends in an
 * `EnvelopeDecodeError`, whatever the bytes: never a crash of another kind, never a hang.
 */
export function decodeValue(bytes: Uint8Array, maxBytes: number = DEFAULT_MAX_ENVELOPE_BYTES, what = 'envelope'): unknown {
  checkMaxBytes(maxBytes);
  if (!(bytes instanceof Uint8Array)) {
    throw new EnvelopeDecodeError(`Cannot decode the ${what}: expected a Uint8Array, got ${describeValue(bytes)}`);
  }
  if (bytes.byteLength > maxBytes) throw new EnvelopeTooLargeError(bytes.byteLength, maxBytes, what);
  if (bytes.byteLength === 0) throw new EnvelopeDecodeError(`Cannot decode the ${what}: it is empty`);
  const reader = idleReader ?? new Reader();
  idleReader = undefined;
  try {
    return reader.decode(bytes);
  } catch (error) {
    const message = error instanceof DecodeFailure ? error.message : ((error as Error)?.message ?? String(error));
    throw new EnvelopeDecodeError(`Cannot decode the ${what}: ${message}`, error instanceof DecodeFailure ? {} : { cause: error });
  } finally {
    reader.release();
    idleReader = reader;
  }
}
