import { EnvelopeTooLargeError } from '../errors/envelope-too-large-error.js';
import { TransportError } from '../errors/transport-error.js';
import { indexTaskModule, type TaskRegistry } from '../task/task-module.js';
import type { TransportCapabilitiesV1 } from '../transport/capabilities.js';
import { createEventQueue } from '../transport/event-queue.js';
import type { SubmittedTaskV1, TaskFileV1, TransportEventV1, TransportStartOptionsV1, TransportV1 } from '../transport/transport-v1.js';
import { DEFAULT_MAX_ENVELOPE_BYTES } from '../wire/limits.js';
import { executeTaskEnvelope, type CheckpointStore } from '../worker/execute-task-envelope.js';
import { readFile } from 'node:fs/promises';

export interface InMemoryTransportOptions {
  /** How many tasks run at once (default 4). Tasks share the master's thread: a synchronous task blocks it. */
  readonly concurrency?: number;
  /** The cap on one envelope with its files (default 64 MiB). */
  readonly maxEnvelopeBytes?: number;
}

interface QueuedTask {
  readonly task: SubmittedTaskV1;
  controller?: AbortController;
}

/**
 * The reference transport: runs tasks in the master's own process with core's executor, one
 * event-loop turn apart. It implements every capability but durability (checkpoints live in
 * memory, across the attempts of a task), so it is the yardstick of the conformance suite and
 * the easiest way to test a task module.
 */
export function createInMemoryTransport(options: InMemoryTransportOptions = {}): TransportV1 {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
  let maxEnvelopeBytes = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  const capabilities: TransportCapabilitiesV1 = {
    cancel: true,
    progress: true,
    durable: false,
    checkpoint: true,
    files: true,
    latency: 'interactive',
    maxEnvelopeBytes: options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES,
    maxBatchSize: 256,
    maxInFlight: Number.POSITIVE_INFINITY,
  };
  const events = createEventQueue<TransportEventV1>();
  const waiting: QueuedTask[] = [];
  const running = new Map<string, QueuedTask>();
  const files = new Map<string, readonly TaskFileV1[]>();
  const checkpointStates = new Map<string, Uint8Array>();
  const checkpoints: CheckpointStore = {
    async save(taskId, state) {
      checkpointStates.set(taskId, state);
    },
    async load(taskId) {
      return checkpointStates.get(taskId);
    },
  };
  let registry: TaskRegistry | undefined;
  let moduleHash = '';
  let closed = false;
  let idle: (() => void) | undefined;

  const pump = (): void => {
    while (!closed && running.size < concurrency && waiting.length > 0) {
      const entry = waiting.shift()!;
      entry.controller = new AbortController();
      running.set(entry.task.taskId, entry);
      setImmediate(() => void run(entry));
    }
    if (running.size === 0 && waiting.length === 0) idle?.();
  };

  const run = async (entry: QueuedTask): Promise<void> => {
    const { task } = entry;
    try {
      if (entry.controller!.signal.aborted || registry === undefined) return;
      events.push({ type: 'task-started', taskId: task.taskId });
      const bytes = await executeTaskEnvelope(task.envelope, registry, {
        signal: entry.controller!.signal,
        moduleHash,
        maxEnvelopeBytes,
        checkpoints,
        onProgress: (taskId, fraction) => events.push({ type: 'task-progress', taskId, fraction }),
        readFile: async (taskId, name) => {
          const file = files.get(taskId)?.find((candidate) => candidate.name === name);
          if (file === undefined) throw new TransportError(`Task ${taskId} has no data file ${name}`);
          return 'data' in file ? file.data : new Uint8Array(await readFile(file.path));
        },
      });
      events.push({ type: 'task-result', taskId: task.taskId, bytes });
    } finally {
      running.delete(task.taskId);
      files.delete(task.taskId);
      pump();
    }
  };

  return {
    specificationVersion: 'v1',
    transportId: 'tsmw.in-memory',
    capabilities,
    async doStart(start: TransportStartOptionsV1) {
      registry = indexTaskModule(await import(start.taskModule.url));
      moduleHash = start.taskModule.hash;
      maxEnvelopeBytes = Math.min(maxEnvelopeBytes, start.maxEnvelopeBytes);
      return {};
    },
    async doSubmit(tasks) {
      if (closed) throw new TransportError('The in-memory transport is closed');
      for (const task of tasks) {
        let size = task.envelope.byteLength;
        for (const file of task.files) if ('data' in file) size += file.data.byteLength;
        if (size > maxEnvelopeBytes) {
          events.push({ type: 'task-lost', taskId: task.taskId, error: new EnvelopeTooLargeError(size, maxEnvelopeBytes) });
          continue;
        }
        if (task.files.length > 0) files.set(task.taskId, task.files);
        waiting.push({ task });
      }
      pump();
    },
    async doCancel(taskIds) {
      const ids = new Set(taskIds);
      for (let index = waiting.length - 1; index >= 0; index -= 1) {
        if (ids.has(waiting[index]!.task.taskId)) waiting.splice(index, 1);
      }
      for (const id of ids) running.get(id)?.controller?.abort();
      pump();
    },
    doReceive() {
      return events;
    },
    async doClose({ force }) {
      if (force) {
        waiting.length = 0;
        for (const entry of running.values()) entry.controller?.abort();
      }
      if (running.size > 0 || waiting.length > 0) await new Promise<void>((resolve) => (idle = resolve));
      closed = true;
      checkpointStates.clear();
      events.end();
    },
  };
}
