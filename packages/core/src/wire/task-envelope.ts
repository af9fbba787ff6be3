import { decodeValue, readCanonicalTask, type CanonicalTaskCache, type CanonicalTaskLayout } from './decode-value.js';
import { encodeParts, encodeValue, type PartsWriter } from './encode-value.js';
import type { TaskEnvelope } from './envelope.js';
import { DEFAULT_MAX_ENVELOPE_BYTES, WIRE_FORMAT_VERSION, type DecodeOptions, type EncodeOptions } from './limits.js';
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

/** The fields of one task envelope for `TaskEnvelopeEncoder` (kept between calls: no object per task). */
interface PendingTask {
  readonly head: Uint8Array;
  readonly inputKey: Uint8Array;
  readonly deadlineKey: Uint8Array;
  readonly fileNamesKey: Uint8Array;
  taskId: string;
  middle: Uint8Array;
  attempt: number;
  input: unknown;
  /** The input already encoded (a re-encoding for another attempt or deadline), written as is. */
  inputBytes: Uint8Array | undefined;
  deadline: number | undefined;
  fileNames: readonly string[] | undefined;
  /** Where the input's bytes lie in the envelope written last, or -1 when it has none. */
  inputStart: number;
  inputEnd: number;
}

/** The map `writeProperty` names as the container of a field: never seen by anyone, never in a cycle. */
const envelopeContainer = Object.freeze({});

/**
 * Encodes the task envelopes of one task module, as `encodeTaskEnvelope` does, byte for byte
 * and error for error, at less cost: what is the same for every task (the field names, the kind,
 * the version, the module hash, each task name) is encoded once, and each envelope writes only
 * its task id, attempt, input and optional fields, with no object made per task.
 */
export class TaskEnvelopeEncoder {
  /** Per task name: `"taskName" <name> "moduleHash" <hash> "attempt"`. */
  private readonly middles = new Map<string, Uint8Array>();
  private lastTaskName: string | undefined;
  private lastMiddle: Uint8Array | undefined;
  private readonly pending: PendingTask;
  /** An encoding is under way (see `encode`). */
  private encoding = false;

  constructor(
    private readonly moduleHash: string,
    version: number,
  ) {
    this.pending = {
      // `"kind" "tsmw-task" "version" <version> "taskId"` (after the map header).
      head: concatenate([encodeValue('kind'), encodeValue('tsmw-task'), encodeValue('version'), encodeValue(version), encodeValue('taskId')]),
      inputKey: encodeValue('input').slice(),
      deadlineKey: encodeValue('deadline').slice(),
      fileNamesKey: encodeValue('fileNames').slice(),
      taskId: '',
      middle: new Uint8Array(0),
      attempt: 1,
      input: undefined,
      inputBytes: undefined,
      deadline: undefined,
      fileNames: undefined,
      inputStart: -1,
      inputEnd: -1,
    };
  }

  /** Where the input lies in the envelope the last `encode` returned (`subarray(inputStart, inputEnd)`), or -1 when it has none. */
  inputStart = -1;
  inputEnd = -1;

  encode(
    taskId: string,
    taskName: string,
    attempt: number,
    input: unknown,
    deadline: number | undefined,
    fileNames: readonly string[] | undefined,
    maxBytes: number = DEFAULT_MAX_ENVELOPE_BYTES,
  ): Uint8Array {
    return this.encodeTask(taskId, taskName, attempt, input, undefined, deadline, fileNames, maxBytes);
  }

  /**
   * As `encode`, for an input already encoded: the bytes an earlier envelope of the task holds
   * (`subarray(inputStart, inputEnd)` of it; undefined when it had no input). The master keeps
   * those rather than the input object, to encode another attempt or deadline of the task.
   */
  encodeWithInputBytes(
    taskId: string,
    taskName: string,
    attempt: number,
    inputBytes: Uint8Array | undefined,
    deadline: number | undefined,
    fileNames: readonly string[] | undefined,
    maxBytes: number = DEFAULT_MAX_ENVELOPE_BYTES,
  ): Uint8Array {
    return this.encodeTask(taskId, taskName, attempt, undefined, inputBytes, deadline, fileNames, maxBytes);
  }

  private encodeTask(
    taskId: string,
    taskName: string,
    attempt: number,
    input: unknown,
    inputBytes: Uint8Array | undefined,
    deadline: number | undefined,
    fileNames: readonly string[] | undefined,
    maxBytes: number,
  ): Uint8Array {
    let middle = taskName === this.lastTaskName ? this.lastMiddle : this.middles.get(taskName);
    if (middle === undefined) {
      middle = concatenate([encodeValue('taskName'), encodeValue(taskName), encodeValue('moduleHash'), encodeValue(this.moduleHash), encodeValue('attempt')]);
      this.middles.set(taskName, middle);
    }
    this.lastTaskName = taskName;
    this.lastMiddle = middle;
    // An input whose getter submits a task encodes while this encoding runs: it gets fields of its own.
    const pending = this.encoding ? { ...this.pending } : this.pending;
    pending.taskId = taskId;
    pending.middle = middle;
    pending.attempt = attempt;
    pending.input = input;
    pending.inputBytes = inputBytes;
    pending.deadline = deadline;
    pending.fileNames = fileNames !== undefined && fileNames.length > 0 ? fileNames : undefined;
    const outermost = !this.encoding;
    this.encoding = true;
    try {
      const envelope = encodeParts(writeTaskEnvelope, pending, maxBytes, 'task envelope');
      this.inputStart = pending.inputStart;
      this.inputEnd = pending.inputEnd;
      return envelope;
    } finally {
      if (outermost) this.encoding = false;
      pending.input = undefined;
      pending.inputBytes = undefined;
      pending.fileNames = undefined;
    }
  }
}

function writeTaskEnvelope(writer: PartsWriter, task: PendingTask): void {
  // Six fields, then input, deadline and fileNames when present (an undefined input is left out).
  const hasInput = task.input !== undefined || task.inputBytes !== undefined;
  const fields = 6 + (hasInput ? 1 : 0) + (task.deadline === undefined ? 0 : 1) + (task.fileNames === undefined ? 0 : 1);
  writer.writeRaw(mapHeaders[fields]!);
  writer.writeRaw(task.head);
  writer.writeString(task.taskId);
  writer.writeRaw(task.middle);
  writer.writeNumber(task.attempt);
  if (hasInput) {
    writer.writeRaw(task.inputKey);
    task.inputStart = writer.bytesWritten();
    if (task.inputBytes !== undefined) writer.writeRaw(task.inputBytes);
    else writer.writeProperty(envelopeContainer, 'input', task.input);
    task.inputEnd = writer.bytesWritten();
  } else {
    task.inputStart = -1;
    task.inputEnd = -1;
  }
  if (task.deadline !== undefined) {
    writer.writeRaw(task.deadlineKey);
    writer.writeProperty(envelopeContainer, 'deadline', task.deadline);
  }
  if (task.fileNames !== undefined) {
    writer.writeRaw(task.fileNamesKey);
    writer.writeProperty(envelopeContainer, 'fileNames', task.fileNames);
  }
}

const mapHeaders = Array.from({ length: 16 }, (_, count) => new Uint8Array([0x80 | count]));

function concatenate(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/**
 * Decodes and checks a task envelope. Any input ends in a `TaskEnvelope` or a typed error:
 * `EnvelopeTooLargeError`, `UnsupportedEnvelopeVersionError` or `EnvelopeDecodeError`.
 */
export function decodeTaskEnvelope(bytes: Uint8Array, options: DecodeOptions = {}): TaskEnvelope {
  return decodeTaskEnvelopeOf(bytes, options.maxBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, undefined);
}

/** The constant parts of a task envelope as `TaskEnvelopeEncoder` writes them. */
/** @internal */
export const canonicalTaskLayout: CanonicalTaskLayout = {
  head: new DataView(concatenate([encodeValue('kind'), encodeValue('tsmw-task'), encodeValue('version'), encodeValue(WIRE_FORMAT_VERSION), encodeValue('taskId')]).buffer),
  version: WIRE_FORMAT_VERSION,
  taskNameKey: encodeValue('taskName').slice(),
  moduleHashKey: encodeValue('moduleHash').slice(),
  attemptKey: encodeValue('attempt').slice(),
  inputKey: encodeValue('input').slice(),
  deadlineKey: encodeValue('deadline').slice(),
  fileNamesKey: encodeValue('fileNames').slice(),
};

/** The fast path's memory: the last task name and module hash it read (a worker runs one module, a few task names). */
const canonicalTaskCache: CanonicalTaskCache = {
  middle: undefined,
  taskName: '',
  moduleHash: '',
  expectedModuleHash: undefined,
  expectedModuleHashField: new DataView(new ArrayBuffer(0)),
};

/**
 * `decodeTaskEnvelope`, for a worker that loaded the task module `expectedModuleHash`: an
 * envelope in the layout `TaskEnvelopeEncoder` writes is read on a fast path (no intermediate
 * map; the task name and module hash compared with the previous envelope's, or the hash with
 * the one expected, rather than decoded), which gives the same envelope as the general path;
 * any other bytes go the general way, which gives the errors. An envelope with another module
 * hash is decoded as it is (refusing it is the executor's part).
 * @internal
 */
export function decodeTaskEnvelopeOf(bytes: Uint8Array, maxBytes: number, expectedModuleHash: string | undefined): TaskEnvelope {
  if (bytes instanceof Uint8Array && bytes.byteLength > 0 && bytes.byteLength <= maxBytes && maxBytes > 0 && Number.isFinite(maxBytes)) {
    const cache = canonicalTaskCache;
    if (expectedModuleHash !== cache.expectedModuleHash) {
      cache.expectedModuleHash = expectedModuleHash;
      cache.expectedModuleHashField = new DataView(expectedModuleHash === undefined ? new ArrayBuffer(0) : concatenate([encodeValue('moduleHash'), encodeValue(expectedModuleHash)]).buffer);
    }
    const envelope = readCanonicalTask(bytes, canonicalTaskLayout, cache);
    if (envelope !== undefined) return envelope as unknown as TaskEnvelope;
  }
  return decodeTaskEnvelopeInGeneral(bytes, maxBytes);
}

/**
 * The general path of `decodeTaskEnvelope`: any bytes, decoded as a value, then checked field
 * by field.
 * @internal
 */
export function decodeTaskEnvelopeInGeneral(bytes: Uint8Array, maxBytes: number): TaskEnvelope {
  const map = expectEnvelopeMap(decodeValue(bytes, maxBytes, context), 'tsmw-task');
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
