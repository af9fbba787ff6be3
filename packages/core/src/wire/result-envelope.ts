import { decodeValue, readCanonicalResult, type CanonicalResultLayout } from './decode-value.js';
import { encodeParts, encodeValue, type PartsWriter } from './encode-value.js';
import type { ConsoleLine, HostInfo, ResultEnvelope, TaskTiming } from './envelope.js';
import { readErrorData } from './error-data.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, WIRE_FORMAT_VERSION, type DecodeOptions, type EncodeOptions } from './limits.js';
import {
  expectEnvelopeMap,
  expectFiniteNumber,
  expectInteger,
  expectMap,
  expectOptionalString,
  expectString,
  fieldError,
  isDecodedMap,
} from './validate.js';

const context = 'result envelope';

/**
 * Encodes a result envelope (bytes the caller owns). An output that cannot cross is refused with
 * `UnsupportedValueError` naming its path from `output`; an undefined output is left out.
 *
 * The field names and the kind are encoded once (this runs once per task on every worker); the
 * bytes are those of the envelope as one plain map with its fields in this order: kind, version,
 * taskId, attempt, ok, output or error, timing, console (when not empty), host (when given).
 */
export function encodeResultEnvelope(envelope: ResultEnvelope, options: EncodeOptions = {}): Uint8Array {
  return encodeParts(writeResultEnvelope, envelope, options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, 'result envelope');
}

/** The map `writeProperty` names as the container of a field: never seen by anyone, never in a cycle. */
const envelopeContainer = Object.freeze({});
const key = (name: string): Uint8Array => encodeValue(name).slice();
const keys = {
  kind: new Uint8Array([...key('kind'), ...key('tsmw-result')]),
  version: key('version'),
  taskId: key('taskId'),
  attempt: key('attempt'),
  ok: key('ok'),
  output: key('output'),
  error: key('error'),
  timing: key('timing'),
  startedAt: key('startedAt'),
  wallMs: key('wallMs'),
  cpuMs: key('cpuMs'),
  console: key('console'),
  host: key('host'),
};
const mapHeaders = Array.from({ length: 16 }, (_, count) => new Uint8Array([0x80 | count]));

function writeResultEnvelope(writer: PartsWriter, envelope: ResultEnvelope): void {
  // As a plain object's properties: those holding undefined are left out.
  const outcome: unknown = envelope.ok ? envelope.output : envelope.error;
  const timing = envelope.timing;
  const consoleLines = envelope.console !== undefined && envelope.console.length > 0 ? envelope.console : undefined;
  const host = envelope.host;
  const fields =
    (envelope.version === undefined ? 0 : 1) +
    (envelope.taskId === undefined ? 0 : 1) +
    (envelope.attempt === undefined ? 0 : 1) +
    (envelope.ok === undefined ? 0 : 1) +
    (outcome === undefined ? 0 : 1) +
    (consoleLines === undefined ? 0 : 1) +
    (host === undefined ? 0 : 1) +
    2; // kind, timing
  writer.writeRaw(mapHeaders[fields]!);
  writer.writeRaw(keys.kind);
  if (envelope.version !== undefined) {
    writer.writeRaw(keys.version);
    writer.writeProperty(envelopeContainer, 'version', envelope.version);
  }
  if (envelope.taskId !== undefined) {
    writer.writeRaw(keys.taskId);
    writer.writeProperty(envelopeContainer, 'taskId', envelope.taskId);
  }
  if (envelope.attempt !== undefined) {
    writer.writeRaw(keys.attempt);
    writer.writeProperty(envelopeContainer, 'attempt', envelope.attempt);
  }
  if (envelope.ok !== undefined) {
    writer.writeRaw(keys.ok);
    writer.writeProperty(envelopeContainer, 'ok', envelope.ok);
  }
  if (outcome !== undefined) {
    writer.writeRaw(envelope.ok ? keys.output : keys.error);
    writer.writeProperty(envelopeContainer, envelope.ok ? 'output' : 'error', outcome);
  }
  writer.writeRaw(keys.timing);
  const { startedAt, wallMs, cpuMs } = timing;
  if (typeof startedAt === 'number' && typeof wallMs === 'number' && typeof cpuMs === 'number') {
    writer.writeRaw(mapHeaders[3]!);
    writer.writeRaw(keys.startedAt);
    writer.writeNumber(startedAt);
    writer.writeRaw(keys.wallMs);
    writer.writeNumber(wallMs);
    writer.writeRaw(keys.cpuMs);
    writer.writeNumber(cpuMs);
  } else {
    writer.writeProperty(envelopeContainer, 'timing', { startedAt, wallMs, cpuMs });
  }
  if (consoleLines !== undefined) {
    writer.writeRaw(keys.console);
    writer.writeProperty(envelopeContainer, 'console', consoleLines);
  }
  if (host !== undefined) {
    writer.writeRaw(keys.host);
    writer.writeProperty(envelopeContainer, 'host', host);
  }
}

/**
 * Decodes and checks a result envelope. Any input ends in a `ResultEnvelope` or a typed error:
 * `EnvelopeTooLargeError`, `UnsupportedEnvelopeVersionError` or `EnvelopeDecodeError`.
 */
export function decodeResultEnvelope(bytes: Uint8Array, options: DecodeOptions = {}): ResultEnvelope {
  return decodeResultEnvelopeOf(bytes, options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, undefined);
}

/** The constant parts of a successful result as `encodeResultEnvelope` writes them. */
/** @internal */
export const canonicalLayout: CanonicalResultLayout = {
  kindAndVersionKey: new Uint8Array([...keys.kind, ...keys.version]),
  version: WIRE_FORMAT_VERSION,
  taskIdKey: keys.taskId,
  attemptKey: keys.attempt,
  okTrueKey: new Uint8Array([...keys.ok, 0xc3]),
  outputKey: keys.output,
  timingKeys: [new Uint8Array([...keys.timing, 0x83, ...keys.startedAt]), keys.wallMs, keys.cpuMs],
};

/**
 * `decodeResultEnvelope`, for a master that expects the result of the task `expectedTaskId`:
 * a result in the layout tsmw's encoder writes is read on a fast path (no intermediate map, the
 * task id compared rather than read), which gives the same envelope as the general path; any
 * other bytes go the general way, which gives the errors.
 * @internal
 */
export function decodeResultEnvelopeOf(bytes: Uint8Array, maxBytes: number, expectedTaskId: string | undefined): ResultEnvelope {
  if (bytes instanceof Uint8Array && bytes.byteLength > 0 && bytes.byteLength <= maxBytes && maxBytes > 0 && Number.isFinite(maxBytes)) {
    const result = readCanonicalResult(bytes, canonicalLayout, expectedTaskId);
    if (result !== undefined) return result as unknown as ResultEnvelope;
  }
  return decodeResultEnvelopeInGeneral(bytes, maxBytes);
}

/**
 * The general path of `decodeResultEnvelope`: any bytes, decoded as a value, then checked field
 * by field.
 * @internal
 */
export function decodeResultEnvelopeInGeneral(bytes: Uint8Array, maxBytes: number): ResultEnvelope {
  const options = { maxBytes };
  const map = expectEnvelopeMap(decodeValue(bytes, options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, context), 'tsmw-result');
  const ok = map['ok'];
  if (typeof ok !== 'boolean') throw fieldError(context, 'ok', 'a boolean', ok);
  const timingMap = expectMap(map, 'timing', context);
  const timing: TaskTiming = {
    startedAt: expectFiniteNumber(timingMap, 'startedAt', context),
    wallMs: expectFiniteNumber(timingMap, 'wallMs', context),
    cpuMs: expectFiniteNumber(timingMap, 'cpuMs', context),
  };
  const taskId = expectString(map, 'taskId', context);
  const attempt = expectInteger(map, 'attempt', context, 1);
  // Built field by field (no spreads): this runs once per task on the master's hot path.
  const result: Record<string, unknown> = { kind: 'tsmw-result', version: map['version'], taskId, attempt, ok, timing };
  if (ok) {
    result['output'] = map['output']; // absent: undefined (a task that returned nothing)
  } else {
    result['error'] = readErrorData(map['error'], context);
  }
  const consoleLines = readConsole(map['console']);
  if (consoleLines !== undefined) result['console'] = consoleLines;
  const host = readHost(map['host']);
  if (host !== undefined) result['host'] = host;
  return result as unknown as ResultEnvelope;
}

function readConsole(value: unknown): ConsoleLine[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw fieldError(context, 'console', 'an array', value);
  return value.map((line: unknown) => {
    if (!isDecodedMap(line)) throw fieldError(context, 'console[]', 'a map', line);
    const entry = line;
    const stream = entry['stream'];
    if (stream !== 'stdout' && stream !== 'stderr') throw fieldError(context, 'console[].stream', '"stdout" or "stderr"', stream);
    return { stream, text: expectString(entry, 'text', context) };
  });
}

function readHost(value: unknown): HostInfo | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isDecodedMap(value)) throw fieldError(context, 'host', 'a map', value);
  const map = value;
  const result: { -readonly [K in keyof HostInfo]: HostInfo[K] } = {};
  for (const key of ['hostname', 'platform', 'arch', 'runtime'] as const) {
    const field = expectOptionalString(map, key, context);
    if (field !== undefined) result[key] = field;
  }
  return result;
}
