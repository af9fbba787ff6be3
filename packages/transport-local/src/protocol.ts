/**
 * The messages between the pool (in the master's thread) and its workers (threads or child
 * processes). Task envelopes and result envelopes stay opaque bytes: a batch of them is packed
 * into ONE ArrayBuffer, transferred (threads) rather than copied, so that a message costs about
 * the same for 1 task as for 256.
 *
 * A batch buffer holds, for `count` items: `count` float64 sequence numbers, then `count`
 * uint32 byte lengths, then the bytes of each item one after the other. Sequence numbers are
 * the pool's own ids of a dispatch (cheaper than task id strings): 0, 1, 2... per worker, in the
 * order the tasks are sent to it. In a result batch, a length of 0 means "dropped": the task was
 * cancelled before it started, so it has no result.
 */
import type { TaskFileV1 } from '@tsmw/core';

/** What the worker needs to load the task module. */
export interface LoadMessage {
  readonly type: 'load';
  readonly moduleUrl: string;
  readonly moduleHash: string;
  readonly maxEnvelopeBytes: number;
  /** The least time between two progress messages of one worker. */
  readonly progressIntervalMs: number;
  /** Where the worker writes the sequence of the task it is running (see running-marker.ts). */
  readonly runningMarker: RunningMarkerLocation;
  /** Where the worker claims each task before running it (see claim-ring.ts). */
  readonly claims: ClaimRingLocation;
}

/**
 * The running marker: a float64 holding the sequence of the task the worker is running, or -1
 * between tasks, written before and after each task and read by the pool when the worker dies.
 * A worker thread writes into shared memory; a child process into a small file (a write that
 * survives the process being killed).
 */
export type RunningMarkerLocation = { readonly kind: 'shared'; readonly buffer: SharedArrayBuffer } | { readonly kind: 'file'; readonly path: string };

/**
 * The claim ring (see claim-ring.ts): shared with a worker thread; kept by a child process
 * itself, which the pool then asks to release tasks (`steal`).
 */
export type ClaimRingLocation = { readonly kind: 'shared'; readonly buffer: SharedArrayBuffer } | { readonly kind: 'local' };

/** A batch of tasks to run in order. */
export interface RunMessage {
  readonly type: 'run';
  readonly count: number;
  readonly buffer: ArrayBuffer;
  /** Data files of the tasks that have some: [index in the batch, files]. Absent for most batches. */
  readonly files?: ReadonlyArray<readonly [number, readonly TaskFileV1[]]>;
}

/** Cancels tasks: dropped if not started, their signal aborted if running. */
export interface CancelMessage {
  readonly type: 'cancel';
  readonly sequences: readonly number[];
}

/**
 * Asks a worker that keeps its own claim ring (a child process) to give back the tasks at
 * sequences [from, to) it has not started; it answers with `released`.
 */
export interface StealMessage {
  readonly type: 'steal';
  readonly from: number;
  readonly to: number;
}

export type ToWorkerMessage = LoadMessage | RunMessage | CancelMessage | StealMessage;

/** The task module is loaded; the worker runs tasks. */
export interface ReadyMessage {
  readonly type: 'ready';
}

/** The task module could not be loaded; the worker exits. */
export interface LoadFailedMessage {
  readonly type: 'load-failed';
  readonly message: string;
}

/** Results of finished tasks, in the order the worker ran them (which is the order it got them). */
export interface ResultsMessage {
  readonly type: 'results';
  readonly count: number;
  readonly buffer: ArrayBuffer;
  /** Milliseconds the worker spent running these tasks (for the pool's estimate of task length). */
  readonly busyMs: number;
}

/** The latest progress of running tasks (coalesced by the worker). */
export interface ProgressMessage {
  readonly type: 'progress';
  readonly sequences: readonly number[];
  readonly fractions: readonly number[];
}

/** The answer to `steal`: the tasks at sequences [from, to) will not run here (from = to: none). */
export interface ReleasedMessage {
  readonly type: 'released';
  readonly from: number;
  readonly to: number;
}

export type FromWorkerMessage = ReadyMessage | LoadFailedMessage | ResultsMessage | ProgressMessage | ReleasedMessage;

/** A batch read back from its buffer: views into it, no copies. */
export interface UnpackedBatch {
  readonly sequences: Float64Array;
  readonly lengths: Uint32Array;
  /** Where each item's bytes start in `bytes`. */
  readonly bytes: Uint8Array;
}

/**
 * Packs items (sequence numbers and bytes) into one buffer. `items` are given as two parallel
 * lists so that callers need not allocate pairs.
 */
export function packBatch(sequences: ArrayLike<number>, payloads: ArrayLike<Uint8Array>, count: number): ArrayBuffer {
  let total = 0;
  for (let index = 0; index < count; index += 1) total += payloads[index]!.byteLength;
  const headerBytes = count * 12;
  // Not zero-filled (every byte is written below), and not from Buffer's shared pool, so that
  // the whole ArrayBuffer is this batch's and can be transferred.
  const buffer = Buffer.allocUnsafeSlow(headerBytes + total).buffer as ArrayBuffer;
  const sequenceView = new Float64Array(buffer, 0, count);
  const lengthView = new Uint32Array(buffer, count * 8, count);
  const bytes = new Uint8Array(buffer, headerBytes);
  let offset = 0;
  for (let index = 0; index < count; index += 1) {
    const payload = payloads[index]!;
    sequenceView[index] = sequences[index]!;
    lengthView[index] = payload.byteLength;
    bytes.set(payload, offset);
    offset += payload.byteLength;
  }
  return buffer;
}

/** Reads a batch packed by `packBatch`. */
export function unpackBatch(buffer: ArrayBuffer, count: number): UnpackedBatch {
  return {
    sequences: new Float64Array(buffer, 0, count),
    lengths: new Uint32Array(buffer, count * 8, count),
    bytes: new Uint8Array(buffer, count * 12),
  };
}
