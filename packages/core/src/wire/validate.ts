import { EnvelopeDecodeError } from '../errors/envelope-decode-error.js';
import { UnsupportedEnvelopeVersionError } from '../errors/unsupported-envelope-version-error.js';
import { SUPPORTED_WIRE_FORMAT_VERSIONS } from './limits.js';

/** A decoded map, checked field by field; every failure is an `EnvelopeDecodeError`. */
export type DecodedMap = Record<string, unknown>;

/** Whether a decoded value is a plain MessagePack map (not an array, a binary, or a value of an extension type). */
export function isDecodedMap(value: unknown): value is DecodedMap {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

export function expectEnvelopeMap(value: unknown, kind: string): DecodedMap {
  if (!isDecodedMap(value)) {
    throw new EnvelopeDecodeError(`Not a ${kind} envelope: the top level is not a map`);
  }
  const map = value as DecodedMap;
  const version = map['version'];
  if (version === undefined) throw new EnvelopeDecodeError(`Not a ${kind} envelope: no "version" field`);
  if (!SUPPORTED_WIRE_FORMAT_VERSIONS.includes(version as number)) {
    throw new UnsupportedEnvelopeVersionError(version, SUPPORTED_WIRE_FORMAT_VERSIONS);
  }
  if (map['kind'] !== kind) {
    const found = map['kind'];
    throw new EnvelopeDecodeError(`Not a ${kind} envelope: "kind" is ${typeof found === 'string' ? JSON.stringify(found.slice(0, 40)) : found === undefined ? 'missing' : `of type ${typeof found}`}`);
  }
  return map;
}

export function expectString(map: DecodedMap, key: string, context: string): string {
  const value = map[key];
  if (typeof value !== 'string') throw fieldError(context, key, 'a string', value);
  return value;
}

export function expectOptionalString(map: DecodedMap, key: string, context: string): string | undefined {
  const value = map[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw fieldError(context, key, 'a string', value);
  return value;
}

export function expectInteger(map: DecodedMap, key: string, context: string, minimum = 0): number {
  const value = map[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
    throw fieldError(context, key, `an integer >= ${minimum}`, value);
  }
  return value;
}

export function expectFiniteNumber(map: DecodedMap, key: string, context: string): number {
  const value = map[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw fieldError(context, key, 'a finite number', value);
  return value;
}

export function expectOptionalFiniteNumber(map: DecodedMap, key: string, context: string): number | undefined {
  const value = map[key];
  if (value === undefined || value === null) return undefined;
  return expectFiniteNumber(map, key, context);
}

export function expectMap(map: DecodedMap, key: string, context: string): DecodedMap {
  const value = map[key];
  if (!isDecodedMap(value)) throw fieldError(context, key, 'a map', value);
  return value;
}

export function fieldError(context: string, key: string, expected: string, value: unknown): EnvelopeDecodeError {
  const found = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  return new EnvelopeDecodeError(`Malformed ${context}: "${key}" must be ${expected}, found ${found}`);
}
