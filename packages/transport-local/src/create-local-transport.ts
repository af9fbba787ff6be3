import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import {
  createEventQueue,
  DEFAULT_MAX_ENVELOPE_BYTES,
  InvalidArgumentError,
  TransportError,
  TsmwError,
  type TransportCapabilitiesV1,
  type TransportEventV1,
  type TransportV1,
} from '@tsmw/core';
import { MAX_TASKS_PER_MESSAGE, MAX_TASKS_PER_WORKER, Pool } from './pool.js';

export interface LocalTransportOptions {
  /** How many workers run tasks at once (default `os.availableParallelism()`). */
  readonly workers?: number;
  /**
   * `'thread'` (default): worker threads. `'process'`: child processes, for tasks that may
   * crash the whole process, leak, or need their own `process` state.
   */
  readonly isolation?: 'thread' | 'process';
  /**
   * How many tasks may wait in the transport's queue (not yet given to a worker) before it holds
   * the master back (default 1,024). Tasks are never dropped: the master waits.
   */
  readonly maxQueue?: number;
  /** A worker idle this long is stopped, and started again when work comes (default: never). */
  readonly idleTimeoutMs?: number;
  /** Memory and stack limits of each worker (for processes: `--max-old-space-size` and friends). */
  readonly resourceLimits?: ResourceLimits;
  /** Environment variables of the workers, over those of the master's process. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * How long a cancelled running task may ignore its aborted signal before its worker is stopped
   * and replaced (default 1,000 ms).
   */
  readonly cancelGraceMs?: number;
  /** The least time between two progress messages of one worker (default 50 ms). */
  readonly progressIntervalMs?: number;
  /** The cap on one task envelope with its files (default 64 MiB). */
  readonly maxEnvelopeBytes?: number;
}

/**
 * A transport that runs tasks on this machine's cores, in worker threads (or child processes),
 * each loading the master's task module once.
 *
 * ```ts
 * const master = await createMaster({ transport: createLocalTransport({ workers: 4 }), tasks: new URL('./tasks.js', import.meta.url) });
 * ```
 */
export function createLocalTransport(options: LocalTransportOptions = {}): TransportV1 {
  const workers = wholeNumber(options.workers ?? availableParallelism(), 'workers', 1);
  const isolation = options.isolation ?? 'thread';
  if (isolation !== 'thread' && isolation !== 'process') {
    throw new InvalidArgumentError(`isolation must be 'thread' or 'process', not ${JSON.stringify(isolation)}`);
  }
  const maxQueue = wholeNumber(options.maxQueue ?? 1024, 'maxQueue', 1);
  const idleTimeoutMs = milliseconds(options.idleTimeoutMs ?? Number.POSITIVE_INFINITY, 'idleTimeoutMs');
  const cancelGraceMs = milliseconds(options.cancelGraceMs ?? 1000, 'cancelGraceMs');
  const progressIntervalMs = milliseconds(options.progressIntervalMs ?? 50, 'progressIntervalMs');
  const maxEnvelopeBytes = wholeNumber(options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES, 'maxEnvelopeBytes', 1);

  const capabilities: TransportCapabilitiesV1 = {
    cancel: true,
    progress: true,
    durable: false,
    checkpoint: false,
    files: true,
    latency: 'interactive',
    maxEnvelopeBytes,
    maxBatchSize: MAX_TASKS_PER_MESSAGE,
    // What the queue and the workers can hold: the master keeps the rest (and `map` keeps its
    // window of inputs that small). doSubmit also waits while the queue is full.
    maxInFlight: maxQueue + workers * MAX_TASKS_PER_WORKER,
  };
  const events = createEventQueue<TransportEventV1>();
  const pool = new Pool({
    workers,
    isolation,
    maxQueue,
    idleTimeoutMs,
    cancelGraceMs,
    progressIntervalMs,
    resourceLimits: options.resourceLimits,
    env: { ...process.env, ...options.env },
    emit: (event) => events.push(event),
  });
  let state: 'new' | 'started' | 'closed' = 'new';
  let closing: Promise<void> | undefined;

  return {
    specificationVersion: 'v1',
    transportId: 'tsmw.local',
    capabilities,
    async doStart(start) {
      if (state !== 'new') throw new TransportError('The local transport was already started');
      state = 'started';
      try {
        await pool.start({
          moduleUrl: start.taskModule.url,
          moduleHash: start.taskModule.hash,
          maxEnvelopeBytes: Math.min(maxEnvelopeBytes, start.maxEnvelopeBytes),
        });
      } catch (error) {
        state = 'closed';
        events.end();
        throw TsmwError.isInstance(error) ? error : new TransportError(`The local transport did not start: ${(error as Error)?.message}`, { cause: error });
      }
      return {};
    },
    doSubmit(tasks) {
      if (state !== 'started') return Promise.reject(new TransportError(`The local transport is ${state === 'new' ? 'not started' : 'closed'}`));
      return pool.submit(tasks);
    },
    async doCancel(taskIds) {
      pool.cancel(taskIds);
    },
    doReceive() {
      return events;
    },
    doClose({ force }) {
      // A forced close after a graceful one that is still waiting stops the workers now.
      if (closing !== undefined) {
        if (force) void pool.close(true);
        return closing;
      }
      closing = (async () => {
        try {
          await pool.close(force);
        } finally {
          state = 'closed';
          events.end();
        }
      })();
      return closing;
    },
  };
}

function wholeNumber(value: number, name: string, minimum: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    throw new InvalidArgumentError(`${name} must be a whole number >= ${minimum}, not ${value}`);
  }
  return value;
}

function milliseconds(value: number, name: string): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a number of milliseconds >= 0, not ${value}`);
  }
  return value;
}
