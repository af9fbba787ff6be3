/** The wire-format version this copy of tsmw writes. */
export const WIRE_FORMAT_VERSION = 1;

/** The wire-format versions this copy of tsmw reads. */
export const SUPPORTED_WIRE_FORMAT_VERSIONS: readonly number[] = [1];

/** The default cap on one encoded envelope: 64 MiB. Decoders refuse larger inputs unread. */
export const DEFAULT_MAX_ENVELOPE_BYTES = 64 * 1024 * 1024;

/**
 * How deeply values may nest on the wire: arrays, objects, and the Maps, Sets, errors, regular
 * expressions and boxed primitives whose extension holds a MessagePack value (each of those counts
 * as two levels: the extension and the map or array inside it; a boxed primitive as one). The
 * encoder refuses deeper values (a circular reference is found this way) and decoders refuse
 * deeper bytes, so that neither can overflow the stack.
 */
export const MAX_NESTING_DEPTH = 1000;

/** How many console lines, and how many characters in all, one task may bring back. */
export const MAX_CONSOLE_LINES = 10_000;
export const MAX_CONSOLE_CHARACTERS = 1024 * 1024;

/** How deep a task error's `cause` chain is kept on the wire. */
export const MAX_ERROR_CAUSE_DEPTH = 8;

/** Options of every decoder. */
export interface DecodeOptions {
  /** Refuse inputs larger than this many bytes (default 64 MiB). */
  readonly maxBytes?: number;
}

/** Options of every encoder. */
export interface EncodeOptions {
  /** Refuse to produce more than this many bytes (default 64 MiB). */
  readonly maxBytes?: number;
}
