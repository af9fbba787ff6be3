/**
 * The worker side of the local transport, shared by the thread and the process entry. It loads
 * the task module once, then runs the batches it is sent, one task at a time in the order
 * received, through core's `executeTaskEnvelopeNow` (no promise per synchronous task), and sends
 * results back in batches.
 */
import { getEventListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { executeTaskEnvelopeNow, indexTaskModule, type ExecuteOptions, type TaskFileV1, type TaskRegistry } from '@tsmw/core';
import { openWorkerClaimRing, type WorkerClaimRing } from './claim-ring.js';
import { openRunningMarker } from './running-marker.js';
import { packBatch, unpackBatch, type FromWorkerMessage, type LoadMessage, type RunMessage, type ToWorkerMessage } from './protocol.js';

/** How the runtime talks to the pool: `postMessage` of a thread, `process.send` of a child. */
export interface WorkerPort {
  post(message: FromWorkerMessage, transfer?: ArrayBuffer[]): void;
  onMessage(listener: (message: ToWorkerMessage) => void): void;
  /** Ends the worker after a failed load. */
  exit(code: number): void;
}

/** Results are sent when this many are waiting... */
const MAX_RESULTS_PER_MESSAGE = 256;
/** ...or when this much time has passed since the last send, and the worker lets messages in this often. */
const FLUSH_INTERVAL_MS = 2;

interface PendingBatch {
  readonly count: number;
  readonly sequences: Float64Array;
  readonly lengths: Uint32Array;
  readonly bytes: Uint8Array;
  readonly files: ReadonlyMap<number, readonly TaskFileV1[]> | undefined;
  index: number;
  offset: number;
}

const emptyBytes = new Uint8Array(0);

export function startWorkerRuntime(port: WorkerPort): void {
  let registry: TaskRegistry | undefined;
  let executeOptions: ExecuteOptions = {};
  let progressIntervalMs = 50;
  let markRunning: (sequence: number) => void = () => {};
  let claims: WorkerClaimRing | undefined;
  const batches: PendingBatch[] = [];
  let draining = false;
  /** Sequences cancelled before they ran (dropped when reached) or while running. */
  const cancelled = new Set<number>();
  let runningSequence = -1;
  let signalController = new AbortController();
  let taskOptions: ExecuteOptions = {};
  const renewSignal = (): void => {
    signalController = new AbortController();
    taskOptions = { ...executeOptions, signal: signalController.signal };
  };
  /** Sequences grow in the order the pool sends tasks; a cancel for one already started and done is stale. */
  let lastStartedSequence = -1;
  let runningFiles: readonly TaskFileV1[] | undefined;

  // Results waiting to be sent.
  let resultSequences: number[] = [];
  let resultPayloads: Uint8Array[] = [];
  let busyMs = 0;
  let lastFlushAt = performance.now();

  // Progress, coalesced: the latest fraction per running task.
  const progress = new Map<number, number>();
  let lastProgressAt = 0;
  let progressTimer: ReturnType<typeof setTimeout> | undefined;

  const flushProgress = (): void => {
    if (progressTimer !== undefined) clearTimeout(progressTimer);
    progressTimer = undefined;
    if (progress.size === 0) return;
    port.post({ type: 'progress', sequences: [...progress.keys()], fractions: [...progress.values()] });
    progress.clear();
    lastProgressAt = performance.now();
  };

  const onProgress = (_taskId: string, fraction: number): void => {
    if (runningSequence < 0) return;
    progress.set(runningSequence, fraction);
    // A synchronous task keeps the event loop busy, so send straight from here when it is time;
    // otherwise a timer sends the latest value later (one message, however often progress is called).
    const now = performance.now();
    if (now - lastProgressAt >= progressIntervalMs) flushProgress();
    else progressTimer ??= setTimeout(flushProgress, progressIntervalMs - (now - lastProgressAt));
  };

  const flushResults = (): void => {
    const count = resultSequences.length;
    lastFlushAt = performance.now();
    if (count === 0) return;
    flushProgress();
    const buffer = packBatch(resultSequences, resultPayloads, count);
    port.post({ type: 'results', count, buffer, busyMs }, [buffer]);
    resultSequences = [];
    resultPayloads = [];
    busyMs = 0;
  };

  const readTaskFile = async (taskId: string, name: string): Promise<Uint8Array> => {
    const file = runningFiles?.find((candidate) => candidate.name === name);
    if (file === undefined) throw new Error(`Task ${taskId} has no data file named "${name}"`);
    return 'data' in file ? file.data : new Uint8Array(await readFile(file.path));
  };

  const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  const drain = async (): Promise<void> => {
    if (draining || registry === undefined) return;
    draining = true;
    let lastYieldAt = performance.now();
    // The time after the last task run (dropping a cancelled task takes none): one clock read per task.
    let clock = lastYieldAt;
    try {
      for (;;) {
        const batch = batches[0];
        if (batch === undefined) break;
        if (batch.index >= batch.count) {
          batches.shift();
          continue;
        }
        const index = batch.index++;
        const sequence = batch.sequences[index]!;
        const length = batch.lengths[index]!;
        const envelope = batch.bytes.subarray(batch.offset, batch.offset + length);
        batch.offset += length;
        if (sequence > lastStartedSequence) lastStartedSequence = sequence;
        if (!claims!.claim(sequence)) {
          // Taken back by the pool for another worker: not run here, and not answered.
          cancelled.delete(sequence);
          continue;
        }
        if (cancelled.delete(sequence)) {
          resultSequences.push(sequence);
          resultPayloads.push(emptyBytes);
        } else {
          runningSequence = sequence;
          lastStartedSequence = sequence;
          runningFiles = batch.files?.get(index);
          // The clock was read after the last task, flush or yield: nothing since took time worth counting.
          const startedAt = clock;
          markRunning(sequence);
          let result = executeTaskEnvelopeNow(envelope, registry, taskOptions);
          // Awaited only when the task returned a promise: a synchronous task costs no promise here.
          if (result instanceof Promise) result = await result;
          markRunning(-1);
          clock = performance.now();
          // Tasks share one signal until one of them aborts it or leaves a listener on it (making an
          // AbortController per task costs more than a tiny task itself).
          if (signalController.signal.aborted || getEventListeners(signalController.signal, 'abort').length > 0) renewSignal();
          busyMs += clock - startedAt;
          runningSequence = -1;
          runningFiles = undefined;
          progress.delete(sequence);
          cancelled.delete(sequence);
          resultSequences.push(sequence);
          resultPayloads.push(result);
        }
        if (resultSequences.length >= MAX_RESULTS_PER_MESSAGE || clock - lastFlushAt >= FLUSH_INTERVAL_MS) {
          flushResults();
          clock = lastFlushAt;
        }
        if (clock - lastYieldAt >= FLUSH_INTERVAL_MS) {
          // Let messages in (new batches, cancellations) between tasks.
          await yieldToEventLoop();
          lastYieldAt = clock = performance.now();
        }
      }
    } finally {
      draining = false;
      flushResults();
    }
  };

  const load = async (message: LoadMessage): Promise<void> => {
    // At once: batches may arrive while the module loads, and a worker-held ring marks them on receipt.
    claims = openWorkerClaimRing(message.claims);
    try {
      registry = indexTaskModule(await import(message.moduleUrl));
    } catch (error) {
      port.post({ type: 'load-failed', message: `Cannot load the task module ${message.moduleUrl}: ${(error as Error)?.stack ?? String(error)}` });
      port.exit(1);
      return;
    }
    progressIntervalMs = message.progressIntervalMs;
    markRunning = openRunningMarker(message.runningMarker);
    executeOptions = {
      // A worker runs tasks only, one at a time: the cheap way to tell whose output is whose.
      consoleCapture: 'exclusive',
      moduleHash: message.moduleHash,
      maxEnvelopeBytes: message.maxEnvelopeBytes,
      onProgress,
      readFile: readTaskFile,
    };
    renewSignal();
    port.post({ type: 'ready' });
    void drain();
  };

  const enqueue = (message: RunMessage): void => {
    const { sequences, lengths, bytes } = unpackBatch(message.buffer, message.count);
    // A batch holds consecutive sequences (the pool numbers the tasks it sends each worker).
    if (message.count > 0) claims?.received(sequences[0]!, message.count);
    batches.push({
      count: message.count,
      sequences,
      lengths,
      bytes,
      files: message.files === undefined ? undefined : new Map(message.files),
      index: 0,
      offset: 0,
    });
    void drain();
  };

  port.onMessage((message) => {
    switch (message.type) {
      case 'load':
        void load(message);
        break;
      case 'run':
        enqueue(message);
        break;
      case 'steal': {
        const first = claims === undefined ? message.to : claims.release(message.from, message.to);
        port.post({ type: 'released', from: first, to: message.to });
        break;
      }
      case 'cancel':
        for (const sequence of message.sequences) {
          if (sequence === runningSequence) signalController.abort();
          else if (sequence > lastStartedSequence) cancelled.add(sequence);
        }
        break;
    }
  });
}
