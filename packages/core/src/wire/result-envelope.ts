import { decodeValue } from './decode-value.js';
import { encodeValue } from './encode-value.js';
import type { ConsoleLine, HostInfo, ResultEnvelope, TaskTiming } from './envelope.js';
import { readErrorData } from './error-data.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, type DecodeOptions, type EncodeOptions } from './limits.js';
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
 */
export function encodeResultEnvelope(envelope: ResultEnvelope, options: EncodeOptions = {}): Uint8Array {
  const wire: Record<string, unknown> = {
    kind: 'tsmw-result',
    version: envelope.version,
    taskId: envelope.taskId,
    attempt: envelope.attempt,
    ok: envelope.ok,
  };
  if (envelope.ok) wire['output'] = envelope.output;
  else wire['error'] = envelope.error;
  wire['timing'] = { startedAt: envelope.timing.startedAt, wallMs: envelope.timing.wallMs, cpuMs: envelope.timing.cpuMs };
  if (envelope.console !== undefined && envelope.console.length > 0) wire['console'] = envelope.console;
  if (envelope.host !== undefined) wire['host'] = envelope.host;
  return encodeValue(wire, options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, 'result envelope', '');
}

/**
 * Decodes and checks a result envelope. Any input ends in a `ResultEnvelope` or a typed error:
 * `EnvelopeTooLargeError`, `UnsupportedEnvelopeVersionError` or `EnvelopeDecodeError`.
 */
export function decodeResultEnvelope(bytes: Uint8Array, options: DecodeOptions = {}): ResultEnvelope {
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
