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
 * That estimate comes from tasks already run, so it is wrong for a while when tiny tasks are
 * followed by long ones. Two rules keep that from serialising long tasks: queued tasks go first
 * to the worker holding the fewest (shared evenly while one idles), and a worker left with
 * nothing to do takes over half of the tasks another worker holds but has not started (work
 * stealing, through the claim ring: see claim-ring.ts).
 *
 * Each worker runs its tasks one at a time, in the order sent, and answers in that order. It
 * marks the task it is running in shared memory (a file for child processes; see
 * running-marker.ts). If the worker dies, that task is lost (`task-lost` with the retryable
 * `WorkerCrashedError`) and every other task it held goes back to the front of the queue. The
 * same marker tells when a task started: `task-started` is sent within `STARTED_POLL_MS` of the
 * start of a task that runs longer; for a task that ends sooner its result says it (the master
 * sends `task-started` to its listeners then).
 */
import { EnvelopeTooLargeError, TransportError, WorkerCrashedError, type SubmittedTaskV1, type TransportEventV1 } from '@tsmw/core';
import type { ResourceLimits } from 'node:worker_threads';
import { createPoolClaimRing, RING_SIZE, type PoolClaimRing } from './claim-ring.js';
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
/** How often the pool looks at which task each busy worker runs, to send `task-started` for long tasks. */
const STARTED_POLL_MS = 20;

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
  /** The task's number on the worker it was sent to (0, 1, 2... per worker; -1 while queued). */
  sequence: number;
  slot: WorkerSlot | undefined;
  cancelled: boolean;
  cancelledAt: number;
  /** `task-started` was sent for the current dispatch. */
  started: boolean;
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
  /** Where the worker claims each task before running it, and the pool takes tasks back. */
  readonly claims: PoolClaimRing;
  /** The sequence of the next task sent to this worker. */
  nextSequence: number;
  /** The sequence of the last task the worker answered (-1 before any). */
  answeredThrough: number;
  /** The idle worker for which a `steal` request to this worker (a child process) awaits its answer. */
  stealingFor: WorkerSlot | undefined;
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
  private requeuedHead = 0;
  private queuedCount = 0;
  private dispatchScheduled = false;
  private heldCount = 0;
  private nextSlotId = 0;
  private startOptions: PoolStartOptions | undefined;
  private startFailures = 0;
  private broken: TransportError | undefined;
  private closing: 'graceful' | 'force' | undefined;
  private spaceWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private readyWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private startedTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: PoolOptions) {}

  /** Starts the workers and waits until each has loaded the task module. */
  async start(startOptions: PoolStartOptions): Promise<void> {
    this.startOptions = startOptions;
    // Child processes mark their running task in files: if this process ends without closing the
    // pool (process.exit), the files still go.
    if (this.options.isolation === 'process') process.on('exit', this.disposeMarkers);
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
      if (task.files.length > 0) for (const file of task.files) if ('data' in file) size += file.data.byteLength;
      if (size > maxBytes) {
        this.options.emit({ type: 'task-lost', taskId: task.taskId, error: new EnvelopeTooLargeError(size, maxBytes) });
        continue;
      }
      if (this.broken !== undefined) {
        this.options.emit({ type: 'task-lost', taskId: task.taskId, error: this.broken });
        continue;
      }
      const entry: Entry = { task, sequence: -1, slot: undefined, cancelled: false, cancelledAt: 0, started: false };
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
    for (let index = this.requeuedHead; index < this.requeued.length; index += 1) cancel(this.requeued[index]);
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
    this.stopStartedPoll();
    if (this.options.isolation === 'process') process.off('exit', this.disposeMarkers);
    this.queue.length = 0;
    this.queueHead = 0;
    this.requeued.length = 0;
    this.requeuedHead = 0;
    this.queuedCount = 0;
    for (const waiter of this.spaceWaiters.splice(0)) waiter();
    for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  private readonly disposeMarkers = (): void => {
    for (const slot of this.slots) slot.marker.dispose();
  };

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
      claims: createPoolClaimRing(this.options.isolation === 'process' ? 'local' : 'shared'),
      nextSequence: 0,
      answeredThrough: -1,
      stealingFor: undefined,
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
      claims: slot.claims.location,
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
    // The channel keeps a worker it terminates referenced until its exit, which the pool (and
    // close()) waits for; from here on updateReference leaves it so.
    slot.channel.terminate();
    slot.referenced = true;
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
        // A worker being stopped (close() began while it loaded) is no worker to wait for.
        if (slot.stopping !== undefined) break;
        slot.ready = true;
        this.startFailures = 0;
        this.readyWaiters.shift()?.resolve();
        this.updateReference(slot);
        this.scheduleDispatch();
        break;
      case 'load-failed':
        slot.loadError = message.message;
        break;
      case 'released':
        this.onReleased(slot, message.from);
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
    for (let index = this.requeuedHead; index < this.requeued.length; index += 1) lose(this.requeued[index]);
    for (let index = this.queueHead; index < this.queue.length; index += 1) lose(this.queue[index]);
    this.queue.length = 0;
    this.queueHead = 0;
    this.requeued.length = 0;
    this.requeuedHead = 0;
    this.queuedCount = 0;
    this.releaseSpace();
    this.checkIdle();
  }

  /**
   * A worker keeps the process alive while it starts or holds tasks, not while it idles. One
   * being stopped stays referenced until it has exited (see stop): unreferencing it then would
   * let the process end before close() settles.
   */
  private updateReference(slot: WorkerSlot): void {
    if (slot.stopping !== undefined || slot.exited) return;
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

  /** How many more tasks a worker can be sent now. */
  private room(slot: WorkerSlot): number {
    if (slot.stopping !== undefined || slot.exited || slot.stealingFor !== undefined) return 0;
    const held = slot.held.length - slot.heldHead;
    // Never more than a claim ring's worth of sequences past the last one answered (claim-ring.ts).
    const ring = RING_SIZE - (slot.nextSequence - slot.answeredThrough - 1);
    return Math.min(this.capacity(slot) - held, ring);
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
      // The worker holding the fewest tasks first (an idle one before a busy one, whatever the
      // capacities learned from earlier tasks), then the one with the most room.
      let best: WorkerSlot | undefined;
      let bestHeld = Number.POSITIVE_INFINITY;
      let bestRoom = 0;
      let withRoom = 0;
      let idle = false;
      for (const slot of this.slots) {
        const room = this.room(slot);
        if (room <= 0) continue;
        const held = slot.held.length - slot.heldHead;
        withRoom += 1;
        if (held === 0) idle = true;
        if (held < bestHeld || (held === bestHeld && room > bestRoom)) {
          best = slot;
          bestHeld = held;
          bestRoom = room;
        }
      }
      if (best === undefined) break;
      // While a worker idles, share the queue out evenly rather than giving it all to one worker;
      // while all are busy, send what there is in one message (fewer, fuller messages).
      const count = Math.min(bestRoom, MAX_TASKS_PER_MESSAGE, idle ? Math.ceil(this.queuedCount / withRoom) : this.queuedCount);
      this.send(best, count);
    }
    if (this.queuedCount === 0) this.stealForIdleWorkers();
    this.releaseSpace();
  }

  /**
   * Work stealing: a worker with nothing to do takes half of the tasks that the busiest other
   * worker holds but has not started (taken from the end of what it holds).
   */
  private stealForIdleWorkers(): void {
    for (const thief of this.slots) {
      if (!thief.ready || thief.stopping !== undefined || thief.exited || thief.held.length > thief.heldHead) continue;
      let victim: WorkerSlot | undefined;
      let most = 0;
      for (const slot of this.slots) {
        if (slot === thief || slot.stopping !== undefined || slot.exited || slot.stealingFor !== undefined) continue;
        // The first task held may be running; the others have not started (or have finished with
        // their results still on the way, which the claim ring tells apart).
        const waiting = slot.held.length - slot.heldHead - 1;
        if (waiting > most) {
          victim = slot;
          most = waiting;
        }
      }
      if (victim === undefined) return;
      const take = Math.ceil(most / 2);
      const from = victim.held[victim.held.length - take]!.sequence;
      const to = victim.held[victim.held.length - 1]!.sequence + 1;
      if (victim.claims.shared) {
        this.giveTo(thief, this.takeBack(victim, victim.claims.steal(from, to)));
      } else {
        victim.stealingFor = thief;
        victim.channel.post({ type: 'steal', from, to });
      }
    }
  }

  /**
   * Takes back from a worker the tasks it holds from sequence `from` on (the claim ring says it
   * will not run them: they are the end of what it holds, as nothing is sent to a worker between
   * a steal and its answer) and queues them again, first; returns how many were queued.
   */
  private takeBack(slot: WorkerSlot, from: number): number {
    const held = slot.held;
    let end = held.length;
    while (end > slot.heldHead && held[end - 1]!.sequence >= from) end -= 1;
    const taken = held.splice(end);
    let queued = 0;
    for (const entry of taken) {
      // (None started: the claim ring gives back only what the worker has not claimed.)
      entry.slot = undefined;
      entry.sequence = -1;
      if (entry.cancelled) continue;
      this.requeued.push(entry);
      queued += 1;
    }
    this.heldCount -= taken.length;
    this.queuedCount += queued;
    this.updateReference(slot);
    return queued;
  }

  private onReleased(slot: WorkerSlot, from: number): void {
    const thief = slot.stealingFor;
    slot.stealingFor = undefined;
    if (this.closing === 'force') return;
    const taken = this.takeBack(slot, from);
    if (thief !== undefined && thief.stopping === undefined && !thief.exited) this.giveTo(thief, taken);
    this.dispatch();
  }

  /** Sends the first `count` queued tasks (those just taken back) to the worker that asked for them. */
  private giveTo(thief: WorkerSlot, count: number): void {
    for (let left = count; left > 0; left -= MAX_TASKS_PER_MESSAGE) this.send(thief, Math.min(left, MAX_TASKS_PER_MESSAGE));
  }

  private takeQueued(): Entry | undefined {
    while (this.requeuedHead < this.requeued.length) {
      const entry = this.requeued[this.requeuedHead]!;
      this.requeuedHead += 1;
      if (this.requeuedHead === this.requeued.length) {
        this.requeued.length = 0;
        this.requeuedHead = 0;
      }
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
    const first = slot.nextSequence;
    while (sequences.length < count) {
      const entry = this.takeQueued();
      if (entry === undefined) break;
      entry.sequence = slot.nextSequence++;
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
    slot.claims.markSent(first, sent);
    const buffer = packBatch(sequences, payloads, sent);
    slot.channel.post({ type: 'run', count: sent, buffer, ...(files === undefined ? {} : { files }) }, [buffer]);
    this.updateReference(slot);
    this.startStartedPoll();
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
    const emit = this.options.emit;
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
          // No `task-started` before it: the master takes a result as word that the task started.
          emit({ type: 'task-result', taskId: entry.task.taskId, bytes: bytes.subarray(offset, offset + length) });
        }
      }
      offset += length;
    }
    if (message.count > 0) slot.answeredThrough = sequences[message.count - 1]!;
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
      const position = this.indexOfHeld(slot, sequences[index]!);
      const entry = position < 0 ? undefined : slot.held[position]!;
      if (entry === undefined || entry.cancelled) continue;
      this.markStarted(slot, position);
      this.options.emit({ type: 'task-progress', taskId: entry.task.taskId, fraction: fractions[index]! });
    }
  }

  /** Where the task with this sequence is in what the worker holds (sequences grow along it), or -1. */
  private indexOfHeld(slot: WorkerSlot, sequence: number): number {
    const held = slot.held;
    let low = slot.heldHead;
    let high = held.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const found = held[middle]!.sequence;
      if (found === sequence) return middle;
      if (found < sequence) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  /**
   * Sends `task-started` for the held task at `position` and those before it (a worker runs its
   * tasks in order, so they have started too) that have not had one.
   */
  private markStarted(slot: WorkerSlot, position: number): void {
    const held = slot.held;
    let first = position;
    while (first > slot.heldHead && !held[first - 1]!.started) first -= 1;
    for (let index = first; index <= position; index += 1) {
      const entry = held[index]!;
      if (entry.started) continue;
      entry.started = true;
      if (!entry.cancelled) this.options.emit({ type: 'task-started', taskId: entry.task.taskId });
    }
  }

  private startStartedPoll(): void {
    if (this.startedTimer !== undefined) return;
    this.startedTimer = setInterval(() => this.pollStarted(), STARTED_POLL_MS);
    this.startedTimer.unref();
  }

  private stopStartedPoll(): void {
    if (this.startedTimer !== undefined) clearInterval(this.startedTimer);
    this.startedTimer = undefined;
  }

  /** Sends `task-started` for the task each busy worker is running, if it has not had one. */
  private pollStarted(): void {
    if (this.heldCount === 0 || this.closing === 'force') {
      this.stopStartedPoll();
      return;
    }
    for (const slot of this.slots) {
      if (slot.held.length === slot.heldHead || slot.exited) continue;
      const running = slot.marker.read();
      if (running === undefined || running < 0) continue;
      const position = this.indexOfHeld(slot, running);
      if (position >= 0) this.markStarted(slot, position);
    }
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
      const position = runningSequence === undefined ? slot.heldHead : this.indexOfHeld(slot, runningSequence);
      const running = position < 0 ? undefined : slot.held[position];
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
