/**
 * The worker pool behind the local transport: a queue of tasks, a set of workers (threads or
 * child processes), and the scheduling between them.
 *
 * Why it is fast with tiny tasks: a worker is sent batches of up to 256 envelopes packed in one
 * transferred buffer, and keeps several batches queued, so it never waits for a round trip to
 * the master. Why it stays fair with slow tasks: how many tasks a worker may hold is set from
 * how long its tasks take (about `TARGET_QUEUE_MS` of work), so a worker running minute-long
 * tasks holds one while a worker running microsecond tasks holds a thousand.
 *
 * Each worker runs its tasks one at a time, in the order sent, and answers in that order. It
 * marks the task it is running in shared memory (a file for child processes; see
 * running-marker.ts). If the worker dies, that task is lost (`task-lost` with the retryable
 * `WorkerCrashedError`) and every other task it held goes back to the front of the queue.
 *
 * Known limit: tasks a worker already holds are not taken back when another worker idles, so a
 * sudden switch from tiny tasks to long, uneven ones may leave a short tail on one worker (the
 * estimate, and so the share each worker gets, adapts from the next results on).
 */
import { EnvelopeTooLargeError, TransportError, WorkerCrashedError, type SubmittedTaskV1, type TransportEventV1 } from '@tsmw/core';
import type { ResourceLimits } from 'node:worker_threads';
import { packBatch, unpackBatch, type FromWorkerMessage, type ResultsMessage } from './protocol.js';
import { createFileRunningMarker, createSharedRunningMarker, type RunningMarker } from './running-marker.js';
import { createProcessChannel, createThreadChannel, type WorkerChannel, type WorkerExit } from './worker-channel.js';

/** The most envelopes in one message to a worker. */
export const MAX_TASKS_PER_MESSAGE = 256;
/** The most tasks one worker holds (running and queued). */
export const MAX_TASKS_PER_WORKER = 4 * MAX_TASKS_PER_MESSAGE;
/** How much work (in milliseconds, by the worker's recent task times) a worker should hold. */
const TARGET_QUEUE_MS = 4;
/** How many tasks a worker holds before the pool knows how long its tasks take. */
const INITIAL_TASKS_PER_WORKER = 1;
/** Workers that fail to start this many times in a row (without one starting) break the pool. */
const MAX_START_FAILURES = 3;

export interface PoolOptions {
  readonly workers: number;
  readonly isolation: 'thread' | 'process';
  readonly maxQueue: number;
  readonly idleTimeoutMs: number;
  readonly cancelGraceMs: number;
  readonly progressIntervalMs: number;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** Where the pool's events go (the transport's event queue). */
  readonly emit: (event: TransportEventV1) => void;
}

export interface PoolStartOptions {
  readonly moduleUrl: string;
  readonly moduleHash: string;
  readonly maxEnvelopeBytes: number;
}

/** One task in the pool, from submission to its result. */
interface Entry {
  readonly task: SubmittedTaskV1;
  /** The pool's number for the current dispatch of the task (-1 while queued). */
  sequence: number;
  slot: WorkerSlot | undefined;
  cancelled: boolean;
  cancelledAt: number;
}

/** Why the pool stopped a worker on purpose. */
type StopReason = 'idle' | 'close' | 'cancel';

interface WorkerSlot {
  readonly id: number;
  channel: WorkerChannel;
  readonly marker: RunningMarker;
  ready: boolean;
  exited: boolean;
  stopping: StopReason | undefined;
  loadError: string | undefined;
  /** The tasks sent to this worker and not yet answered, in the order sent (= the order run). */
  readonly held: Entry[];
  heldHead: number;
  /** Recent milliseconds per task, or undefined before the first results. */
  taskMs: number | undefined;
  referenced: boolean;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  cancelTimer: ReturnType<typeof setTimeout> | undefined;
  readonly exitedPromise: Promise<void>;
  markExited: () => void;
}

export class Pool {
  private readonly slots: WorkerSlot[] = [];
  private readonly queue: Array<Entry | undefined> = [];
  private queueHead = 0;
  /** Tasks taken back from a dead worker: they go before the queue. */
  private readonly requeued: Entry[] = [];
  private queuedCount = 0;
  private dispatchScheduled = false;
  private heldCount = 0;
  private nextSequence = 0;
  private nextSlotId = 0;
  private startOptions: PoolStartOptions | undefined;
  private startFailures = 0;
  private broken: TransportError | undefined;
  private closing: 'graceful' | 'force' | undefined;
  private spaceWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private readyWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(private readonly options: PoolOptions) {}

  /** Starts the workers and waits until each has loaded the task module. */
  async start(startOptions: PoolStartOptions): Promise<void> {
    this.startOptions = startOptions;
    // One waiter per worker started; each 'ready' (or failure to start) settles the oldest.
    const ready = Array.from({ length: this.options.workers }, () => {
      this.spawn();
      return new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    });
    try {
      await Promise.all(ready);
    } catch (error) {
      await this.close(true);
      throw error;
    }
  }

  /** Queues tasks; resolves when the queue has room again (backpressure). */
  async submit(tasks: readonly SubmittedTaskV1[]): Promise<void> {
    if (this.closing !== undefined) throw new TransportError('The local transport is closed');
    const maxBytes = this.startOptions?.maxEnvelopeBytes ?? Number.POSITIVE_INFINITY;
    for (const task of tasks) {
      let size = task.envelope.byteLength;
      for (const file of task.files) if ('data' in file) size += file.data.byteLength;
      if (size > maxBytes) {
        this.options.emit({ type: 'task-lost', taskId: task.taskId, error: new EnvelopeTooLargeError(size, maxBytes) });
        continue;
      }
      if (this.broken !== undefined) {
        this.options.emit({ type: 'task-lost', taskId: task.taskId, error: this.broken });
        continue;
      }
      const entry: Entry = { task, sequence: -1, slot: undefined, cancelled: false, cancelledAt: 0 };
      this.queue.push(entry);
      this.queuedCount += 1;
    }
    this.scheduleDispatch();
    while (this.queuedCount >= this.options.maxQueue && this.closing === undefined) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
  }

  /** Drops queued tasks; aborts running ones, and stops their worker if they ignore it. */
  cancel(taskIds: readonly string[]): void {
    // A scan rather than an index by task id: cancelling is rare, and the pool holds a bounded
    // number of tasks (its queue and what its workers hold), while an index costs every task.
    const ids = new Set(taskIds);
    const bySlot = new Map<WorkerSlot, number[]>();
    const now = Date.now();
    const cancel = (entry: Entry | undefined): void => {
      if (entry === undefined || entry.cancelled || !ids.has(entry.task.taskId)) return;
      entry.cancelled = true;
      entry.cancelledAt = now;
      const slot = entry.slot;
      if (slot === undefined) {
        this.queuedCount -= 1;
        return;
      }
      let sequences = bySlot.get(slot);
      if (sequences === undefined) bySlot.set(slot, (sequences = []));
      sequences.push(entry.sequence);
    };
    for (const entry of this.requeued) cancel(entry);
    for (let index = this.queueHead; index < this.queue.length; index += 1) cancel(this.queue[index]);
    for (const slot of this.slots) for (let index = slot.heldHead; index < slot.held.length; index += 1) cancel(slot.held[index]);
    for (const [slot, sequences] of bySlot) {
      slot.channel.post({ type: 'cancel', sequences });
      this.armCancelTimer(slot, this.options.cancelGraceMs);
    }
    this.releaseSpace();
    this.checkIdle();
  }

  /** Stops: `force` stops workers now; otherwise waits for every task first. */
  async close(force: boolean): Promise<void> {
    if (force) this.closing = 'force';
    else this.closing ??= 'graceful';
    if (!force && (this.queuedCount > 0 || this.heldCount > 0) && this.broken === undefined) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    this.closing = 'force';
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(new TransportError('The local transport closed before its workers started'));
    const exits = this.slots.map((slot) => {
      this.stop(slot, 'close');
      return slot.exitedPromise;
    });
    await Promise.all(exits);
    this.queue.length = 0;
    this.queueHead = 0;
    this.requeued.length = 0;
    this.queuedCount = 0;
    for (const waiter of this.spaceWaiters.splice(0)) waiter();
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  // ---- workers ------------------------------------------------------------------------------

  private spawn(): WorkerSlot {
    const startOptions = this.startOptions!;
    let markExited!: () => void;
    const exitedPromise = new Promise<void>((resolve) => (markExited = resolve));
    const slot: WorkerSlot = {
      id: this.nextSlotId++,
      channel: undefined as unknown as WorkerChannel,
      marker: this.options.isolation === 'process' ? createFileRunningMarker() : createSharedRunningMarker(),
      ready: false,
      exited: false,
      stopping: undefined,
      loadError: undefined,
      held: [],
      heldHead: 0,
      taskMs: undefined,
      referenced: true,
      idleTimer: undefined,
      cancelTimer: undefined,
      exitedPromise,
      markExited,
    };
    const channelOptions = {
      resourceLimits: this.options.resourceLimits,
      env: this.options.env,
      onMessage: (message: FromWorkerMessage) => this.onMessage(slot, message),
      onExit: (exit: WorkerExit) => this.onExit(slot, exit),
    };
    slot.channel = this.options.isolation === 'process' ? createProcessChannel(channelOptions) : createThreadChannel(channelOptions);
    slot.channel.post({
      type: 'load',
      moduleUrl: startOptions.moduleUrl,
      moduleHash: startOptions.moduleHash,
      maxEnvelopeBytes: startOptions.maxEnvelopeBytes,
      progressIntervalMs: this.options.progressIntervalMs,
      runningMarker: slot.marker.location,
    });
    this.slots.push(slot);
    return slot;
  }

  /** Workers that can take tasks: started or starting, and not being stopped. */
  private liveWorkers(): number {
    let live = 0;
    for (const slot of this.slots) if (slot.stopping === undefined && !slot.exited) live += 1;
    return live;
  }

  private stop(slot: WorkerSlot, reason: StopReason): void {
    if (slot.exited) return;
    slot.stopping ??= reason;
    this.clearTimers(slot);
    slot.channel.terminate();
  }

  private clearTimers(slot: WorkerSlot): void {
    if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer);
    if (slot.cancelTimer !== undefined) clearTimeout(slot.cancelTimer);
    slot.idleTimer = undefined;
    slot.cancelTimer = undefined;
  }

  private onMessage(slot: WorkerSlot, message: FromWorkerMessage): void {
    switch (message.type) {
      case 'results':
        this.onResults(slot, message);
        break;
      case 'progress':
        this.onProgress(slot, message.sequences, message.fractions);
        break;
      case 'ready':
        slot.ready = true;
        this.startFailures = 0;
        this.readyWaiters.shift()?.resolve();
        this.updateReference(slot);
        break;
      case 'load-failed':
        slot.loadError = message.message;
        break;
    }
  }

  private onExit(slot: WorkerSlot, exit: WorkerExit): void {
    slot.exited = true;
    this.clearTimers(slot);
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    const held = slot.held.slice(slot.heldHead);
    slot.held.length = 0;
    slot.heldHead = 0;
    this.heldCount -= held.length;

    if (this.closing === 'force') {
      slot.marker.dispose();
      slot.markExited();
      return;
    }
    // The task the worker was running is lost (unless it was cancelled: then it is why the
    // worker was stopped); the others it held go back to the queue, even those it finished
    // but whose results never left it.
    const runningSequence = slot.marker.read();
    slot.marker.dispose();
    let rest = held;
    const running = runningSequence === undefined ? (slot.ready ? held[0] : undefined) : held.find((entry) => entry.sequence === runningSequence);
    if (running !== undefined) {
      rest = held.filter((entry) => entry !== running);
      if (!running.cancelled) {
        this.options.emit({ type: 'task-lost', taskId: running.task.taskId, error: this.crashError(running, slot, exit) });
      }
    }
    for (const entry of rest) {
      if (entry.cancelled) continue;
      entry.slot = undefined;
      entry.sequence = -1;
      this.requeued.push(entry);
      this.queuedCount += 1;
    }

    if (!slot.ready && slot.stopping === undefined) {
      this.startFailures += 1;
      const reason = slot.loadError ?? describeExit(exit);
      const waiter = this.readyWaiters.shift();
      if (waiter !== undefined) {
        waiter.reject(new TransportError(`A worker of the local transport did not start: ${reason}`, { cause: exit.error }));
      } else if (this.startFailures >= MAX_START_FAILURES) {
        this.breakPool(new TransportError(`Workers of the local transport fail to start (${this.startFailures} times in a row): ${reason}`, { cause: exit.error }));
      }
    }
    slot.markExited();
    if (this.closing === undefined || this.queuedCount > 0) this.dispatch();
    this.checkIdle();
  }

  private crashError(entry: Entry, slot: WorkerSlot, exit: WorkerExit): WorkerCrashedError {
    const detail = slot.stopping === 'cancel' ? 'it was stopped because a cancelled task on it ignored its signal' : describeExit(exit);
    return new WorkerCrashedError(entry.task.taskId, detail, {
      ...(exit.error === undefined ? {} : { cause: exit.error }),
      ...(exit.exitCode === undefined ? {} : { exitCode: exit.exitCode }),
    });
  }

  /** Fails every task with a lasting error: workers cannot start. */
  private breakPool(error: TransportError): void {
    this.broken = error;
    const lose = (entry: Entry | undefined): void => {
      if (entry !== undefined && !entry.cancelled) this.options.emit({ type: 'task-lost', taskId: entry.task.taskId, error });
    };
    for (const entry of this.requeued) lose(entry);
    for (let index = this.queueHead; index < this.queue.length; index += 1) lose(this.queue[index]);
    this.queue.length = 0;
    this.queueHead = 0;
    this.requeued.length = 0;
    this.queuedCount = 0;
    this.releaseSpace();
    this.checkIdle();
  }

  private updateReference(slot: WorkerSlot): void {
    const busy = !slot.ready || slot.held.length > slot.heldHead;
    if (busy && !slot.referenced) slot.channel.ref();
    else if (!busy && slot.referenced) slot.channel.unref();
    slot.referenced = busy;
    if (busy) {
      if (slot.idleTimer !== undefined) clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
    } else if (Number.isFinite(this.options.idleTimeoutMs) && slot.idleTimer === undefined && slot.stopping === undefined) {
      slot.idleTimer = setTimeout(() => {
        slot.idleTimer = undefined;
        if (slot.held.length === slot.heldHead) this.stop(slot, 'idle');
      }, this.options.idleTimeoutMs);
      slot.idleTimer.unref();
    }
  }

  // ---- dispatch -----------------------------------------------------------------------------

  /** How many tasks a worker should hold, from how long its tasks take. */
  private capacity(slot: WorkerSlot): number {
    if (slot.taskMs === undefined) return INITIAL_TASKS_PER_WORKER;
    return Math.max(1, Math.min(MAX_TASKS_PER_WORKER, Math.ceil(TARGET_QUEUE_MS / Math.max(slot.taskMs, 0.001))));
  }

  /**
   * Dispatches once the current turn of the event loop is over: everything the master submits
   * in one turn (as results come in and callers submit more) then goes out in one message per
   * worker instead of many small ones.
   */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    if (this.closing === 'force' || this.startOptions === undefined) return;
    if (this.queuedCount > 0) {
      let live = this.liveWorkers();
      while (live < this.options.workers) {
        this.spawn();
        live += 1;
      }
    }
    while (this.queuedCount > 0) {
      let best: WorkerSlot | undefined;
      let bestRoom = 0;
      let withRoom = 0;
      let idle = false;
      for (const slot of this.slots) {
        if (slot.stopping !== undefined || slot.exited) continue;
        const held = slot.held.length - slot.heldHead;
        const room = this.capacity(slot) - held;
        if (room <= 0) continue;
        withRoom += 1;
        if (held === 0) idle = true;
        if (room > bestRoom) {
          best = slot;
          bestRoom = room;
        }
      }
      if (best === undefined) break;
      // While a worker idles, share the queue out evenly rather than giving it all to one worker;
      // while all are busy, send what there is in one message (fewer, fuller messages).
      const count = Math.min(bestRoom, MAX_TASKS_PER_MESSAGE, idle ? Math.ceil(this.queuedCount / withRoom) : this.queuedCount);
      this.send(best, count);
    }
    this.releaseSpace();
  }

  private takeQueued(): Entry | undefined {
    while (this.requeued.length > 0) {
      const entry = this.requeued.shift()!;
      if (!entry.cancelled) return entry;
    }
    while (this.queueHead < this.queue.length) {
      const entry = this.queue[this.queueHead];
      this.queue[this.queueHead] = undefined;
      this.queueHead += 1;
      if (entry !== undefined && !entry.cancelled) return entry;
    }
    return undefined;
  }

  private compactQueue(): void {
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0;
      this.queueHead = 0;
    } else if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }

  private send(slot: WorkerSlot, count: number): void {
    const sequences: number[] = [];
    const payloads: Uint8Array[] = [];
    let files: Array<readonly [number, SubmittedTaskV1['files']]> | undefined;
    while (sequences.length < count) {
      const entry = this.takeQueued();
      if (entry === undefined) break;
      entry.sequence = this.nextSequence++;
      entry.slot = slot;
      slot.held.push(entry);
      if (entry.task.files.length > 0) (files ??= []).push([sequences.length, entry.task.files]);
      sequences.push(entry.sequence);
      payloads.push(entry.task.envelope);
    }
    this.compactQueue();
    const sent = sequences.length;
    this.queuedCount -= sent;
    this.heldCount += sent;
    if (sent === 0) return;
    const buffer = packBatch(sequences, payloads, sent);
    slot.channel.post({ type: 'run', count: sent, buffer, ...(files === undefined ? {} : { files }) }, [buffer]);
    this.updateReference(slot);
  }

  private releaseSpace(): void {
    if (this.spaceWaiters.length === 0 || this.queuedCount >= this.options.maxQueue) return;
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const waiter of waiters) waiter();
  }

  // ---- results ------------------------------------------------------------------------------

  private onResults(slot: WorkerSlot, message: ResultsMessage): void {
    const { sequences, lengths, bytes } = unpackBatch(message.buffer, message.count);
    const held = slot.held;
    let offset = 0;
    let answered = 0;
    for (let index = 0; index < message.count; index += 1) {
      const sequence = sequences[index]!;
      const length = lengths[index]!;
      // Results come in the order the tasks were sent; anything before this one was answered already.
      while (slot.heldHead < held.length && held[slot.heldHead]!.sequence < sequence) {
        slot.heldHead += 1;
        answered += 1;
      }
      const entry = held[slot.heldHead];
      if (entry !== undefined && entry.sequence === sequence) {
        held[slot.heldHead] = undefined as unknown as Entry;
        slot.heldHead += 1;
        answered += 1;
        if (!entry.cancelled && length > 0) {
          this.options.emit({ type: 'task-result', taskId: entry.task.taskId, bytes: bytes.subarray(offset, offset + length) });
        }
      }
      offset += length;
    }
    this.heldCount -= answered;
    if (slot.heldHead === held.length) {
      held.length = 0;
      slot.heldHead = 0;
    } else if (slot.heldHead > 1024 && slot.heldHead * 2 > held.length) {
      held.splice(0, slot.heldHead);
      slot.heldHead = 0;
    }
    if (message.count > 0) {
      const sample = message.busyMs / message.count;
      slot.taskMs = slot.taskMs === undefined ? sample : (slot.taskMs + sample) / 2;
    }
    this.updateReference(slot);
    this.scheduleDispatch();
    this.checkIdle();
  }

  private onProgress(slot: WorkerSlot, sequences: readonly number[], fractions: readonly number[]): void {
    for (let index = 0; index < sequences.length; index += 1) {
      const entry = this.findHeld(slot, sequences[index]!);
      if (entry !== undefined && !entry.cancelled) this.options.emit({ type: 'task-progress', taskId: entry.task.taskId, fraction: fractions[index]! });
    }
  }

  private findHeld(slot: WorkerSlot, sequence: number): Entry | undefined {
    for (let position = slot.heldHead; position < slot.held.length; position += 1) {
      const entry = slot.held[position]!;
      if (entry.sequence === sequence) return entry;
    }
    return undefined;
  }

  // ---- cancel and idle ----------------------------------------------------------------------

  /**
   * After the grace period, a worker still running a cancelled task (its first held task) is
   * stopped and replaced; its other tasks go back to the queue. A cancelled task further back
   * is dropped by the worker when it gets there, so the timer looks again later.
   */
  private armCancelTimer(slot: WorkerSlot, delayMs: number): void {
    if (slot.cancelTimer !== undefined || slot.exited) return;
    slot.cancelTimer = setTimeout(() => {
      slot.cancelTimer = undefined;
      if (slot.exited) return;
      const runningSequence = slot.marker.read();
      const running = runningSequence === undefined ? slot.held[slot.heldHead] : this.findHeld(slot, runningSequence);
      const now = Date.now();
      if (running !== undefined && running.cancelled && now - running.cancelledAt >= this.options.cancelGraceMs) {
        this.stop(slot, 'cancel');
        return;
      }
      let earliest = Number.POSITIVE_INFINITY;
      for (let position = slot.heldHead; position < slot.held.length; position += 1) {
        const entry = slot.held[position]!;
        if (entry.cancelled) earliest = Math.min(earliest, entry.cancelledAt);
      }
      if (Number.isFinite(earliest)) this.armCancelTimer(slot, Math.max(1, earliest + this.options.cancelGraceMs - now));
    }, delayMs);
    slot.cancelTimer.unref();
  }

  /** Wakes a graceful close once nothing is queued or held (cancelled tasks still held count until their worker answers or is stopped). */
  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if ((this.queuedCount > 0 || this.heldCount > 0) && this.broken === undefined) return;
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }
}

function describeExit(exit: WorkerExit): string {
  if (exit.error !== undefined) return `${exit.error.name}: ${exit.error.message}`;
  if (exit.signal !== undefined) return `killed by ${exit.signal}`;
  return `exited with code ${exit.exitCode ?? 'unknown'}`;
}
