import { Packr } from 'msgpackr';
import { EnvelopeDecodeError } from '../errors/envelope-decode-error.js';
import { EnvelopeTooLargeError } from '../errors/envelope-too-large-error.js';
import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import { DEFAULT_MAX_ENVELOPE_BYTES } from './limits.js';

/**
 * THE one msgpackr configuration of tsmw. Everything that crosses a process or machine
 * boundary is encoded here, as plain MessagePack that any language can read:
 * - `useRecords: false`: no msgpackr record/structure extension (0x72) on the wire;
 * - `encodeUndefinedAsNil`: `undefined` is nil, not msgpackr's extension 0;
 * - `skipValues: [undefined]`: object properties holding `undefined` are left out, as in JSON;
 * - `variableMapSize`: maps use fixmap/map16/map32 by size;
 * - `copyBuffers`: decoded binaries own their bytes, never a view of the input;
 * - `int64AsType: 'auto'`: 64-bit integers decode as numbers when safe, else as bigint.
 * Binary data (any typed array) travels as MessagePack `bin` and arrives as a `Uint8Array`;
 * dates use the standard timestamp extension (-1).
 */
// `skipValues` and `int64AsType: 'auto'` are supported by msgpackr 2.1 but missing from its type declarations.
const packerOptions: ConstructorParameters<typeof Packr>[0] & { skipValues: unknown[] } = {
  int64AsType: 'auto' as 'number',
  useRecords: false,
  encodeUndefinedAsNil: true,
  skipValues: [undefined],
  variableMapSize: true,
  copyBuffers: true,
  mapsAsObjects: true,
};
const packr = new Packr(packerOptions);

/** Below this size an encoding is returned as msgpackr wrote it (see `encodeValue`). */
const SHARE_BELOW_BYTES = 64 * 1024;
/** ...unless msgpackr's buffer has grown past this, so that a small envelope never pins a big buffer. */
const MAX_SHARED_BUFFER_BYTES = 1024 * 1024;

/**
 * Encodes any value with tsmw's wire settings. The bytes are never overwritten later and may be
 * kept. Small encodings may share their `ArrayBuffer` with other encodings (msgpackr writes
 * successive values into one buffer and never reuses it), so a caller that wants to transfer
 * bytes to another thread must copy them first; large ones get a buffer of their own.
 */
export function encodeValue(value: unknown, maxBytes = DEFAULT_MAX_ENVELOPE_BYTES, what = 'envelope'): Uint8Array {
  let packed: Uint8Array;
  try {
    packed = packr.pack(value);
  } catch (error) {
    throw new InvalidArgumentError(`Cannot encode the ${what}: ${(error as Error).message}`, { cause: error });
  }
  if (packed.byteLength > maxBytes) throw new EnvelopeTooLargeError(packed.byteLength, maxBytes, what);
  if (packed.byteLength < SHARE_BELOW_BYTES && packed.buffer.byteLength <= MAX_SHARED_BUFFER_BYTES) {
    return new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength);
  }
  // A buffer of our own (not pooled, not zero-filled first).
  const owned = Buffer.allocUnsafeSlow(packed.byteLength);
  owned.set(packed);
  return new Uint8Array(owned.buffer, 0, packed.byteLength);
}

/**
 * Decodes bytes with tsmw's wire settings. The size is checked before anything is read;
 * whatever goes wrong inside MessagePack decoding becomes an `EnvelopeDecodeError`.
 */
export function decodeValue(bytes: Uint8Array, maxBytes = DEFAULT_MAX_ENVELOPE_BYTES, what = 'envelope'): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new EnvelopeDecodeError(`Cannot decode the ${what}: expected a Uint8Array, got ${describe(bytes)}`);
  }
  if (bytes.byteLength > maxBytes) throw new EnvelopeTooLargeError(bytes.byteLength, maxBytes, what);
  if (bytes.byteLength === 0) throw new EnvelopeDecodeError(`Cannot decode the ${what}: it is empty`);
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw new EnvelopeDecodeError(`Cannot decode the ${what}: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return typeof value;
}
