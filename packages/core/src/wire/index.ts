export type { TaskEnvelope, ResultEnvelope, OkResultEnvelope, ErrorResultEnvelope, ErrorData, ConsoleLine, TaskTiming, HostInfo } from './envelope.js';
export { encodeTaskEnvelope, decodeTaskEnvelope } from './task-envelope.js';
export { encodeResultEnvelope, decodeResultEnvelope } from './result-envelope.js';
export { encodeValue } from './encode-value.js';
export { decodeValue } from './decode-value.js';
export { serializeError, readErrorData } from './error-data.js';
export {
  WIRE_FORMAT_VERSION,
  SUPPORTED_WIRE_FORMAT_VERSIONS,
  DEFAULT_MAX_ENVELOPE_BYTES,
  MAX_CONSOLE_LINES,
  MAX_CONSOLE_CHARACTERS,
  MAX_NESTING_DEPTH,
  type DecodeOptions,
  type EncodeOptions,
} from './limits.js';
