import { decodeValue } from './decode-value.js';
import { encodeValue } from './encode-value.js';
import type { TaskEnvelope } from './envelope.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, type DecodeOptions, type EncodeOptions } from './limits.js';
import { expectEnvelopeMap, expectInteger, expectOptionalFiniteNumber, expectString, fieldError } from './validate.js';

const context = 'task envelope';

/**
 * Encodes a task envelope (bytes the caller owns). An input that cannot cross is refused with
 * `UnsupportedValueError` naming its path from `input`; an undefined input is left out.
 */
export function encodeTaskEnvelope(envelope: TaskEnvelope, options: EncodeOptions = {}): Uint8Array {
  // Fields in a fixed order, so that the same envelope always gives the same bytes.
  const wire: Record<string, unknown> = {
    kind: 'tsmw-task',
    version: envelope.version,
    taskId: envelope.taskId,
    taskName: envelope.taskName,
    moduleHash: envelope.moduleHash,
    attempt: envelope.attempt,
    input: envelope.input,
  };
  if (envelope.deadline !== undefined) wire['deadline'] = envelope.deadline;
  if (envelope.fileNames !== undefined && envelope.fileNames.length > 0) wire['fileNames'] = envelope.fileNames;
  return encodeValue(wire, options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, 'task envelope', '');
}

/**
 * Decodes and checks a task envelope. Any input ends in a `TaskEnvelope` or a typed error:
 * `EnvelopeTooLargeError`, `UnsupportedEnvelopeVersionError` or `EnvelopeDecodeError`.
 */
export function decodeTaskEnvelope(bytes: Uint8Array, options: DecodeOptions = {}): TaskEnvelope {
  const map = expectEnvelopeMap(decodeValue(bytes, options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, context), 'tsmw-task');
  const deadline = expectOptionalFiniteNumber(map, 'deadline', context);
  const fileNames = map['fileNames'];
  if (fileNames !== undefined && fileNames !== null) {
    if (!Array.isArray(fileNames) || !fileNames.every((name) => typeof name === 'string')) {
      throw fieldError(context, 'fileNames', 'an array of strings', fileNames);
    }
  }
  const envelope: Record<string, unknown> = {
    kind: 'tsmw-task',
    version: map['version'],
    taskId: expectString(map, 'taskId', context),
    taskName: expectString(map, 'taskName', context),
    moduleHash: expectString(map, 'moduleHash', context),
    attempt: expectInteger(map, 'attempt', context, 1),
    input: map['input'], // absent: undefined (a task that takes no input)
  };
  if (deadline !== undefined) envelope['deadline'] = deadline;
  if (Array.isArray(fileNames) && fileNames.length > 0) envelope['fileNames'] = fileNames;
  return envelope as unknown as TaskEnvelope;
}
