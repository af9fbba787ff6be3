import { MasterClosedError } from '../errors/master-closed-error.js';
import type { QueuedTask } from './task-handle.js';
import type { TaskRecord } from './task-record.js';

/** PyMW's scheduler_func: given the queue (oldest first, read-only), the index of the task to dispatch next. */
export type ScheduleHook = (queue: readonly QueuedTask[]) => number;

/**
 * The master's queue of tasks waiting for the transport, and the submits waiting for room in
 * it. Every operation is O(1) amortised, with or without a `schedule` hook, except what a hook
 * itself chooses to do (a hook that picks from the middle moves the tasks behind its pick).
 *
 * Retries go first, then FIFO or the hook's pick. Tasks settled while queued (cancelled) stay
 * where they are and are skipped when reached; with a hook the queue is compacted before the
 * hook sees it, so the hook only ever sees tasks that can still run.
 */
export class SubmissionQueue {
  private items: Array<TaskRecord | undefined> = [];
  private head = 0;
  private retries: Array<TaskRecord | undefined> = [];
  private retriesHead = 0;
  /** Settled records still in `items` past `head`. */
  private holes = 0;
  private readonly view: readonly QueuedTask[];
  private hookProblemReported = false;
  /** Array slots this queue has copied or moved, in all (tests check it grows linearly with the tasks). */
  movedSlots = 0;
  /** Submits waiting for room, oldest first from `spaceWaitersHead`. */
  private spaceWaiters: Array<{ resolve: () => void; reject: (error: Error) => void } | undefined> = [];
  private spaceWaitersHead = 0;
  /** Places promised to woken submits that have not queued their task yet. */
  private spaceGranted = 0;

  constructor(
    private readonly schedule: ScheduleHook | undefined,
    private readonly maxQueued: number,
    private readonly reportHookProblem: (message: string) => void,
  ) {
    this.view = schedule === undefined ? [] : this.createView();
  }

  push(record: TaskRecord): void {
    this.items.push(record);
  }

  pushRetry(record: TaskRecord): void {
    this.retries.push(record);
  }

  /** A queued record was settled (cancelled) where it stands: it becomes a hole, skipped later. */
  noteSettledInQueue(): void {
    this.holes += 1;
  }

  /** The tasks waiting here (retries first, then the others oldest first), for a close or a failed stream. */
  *records(): IterableIterator<TaskRecord> {
    for (let index = this.retriesHead; index < this.retries.length; index += 1) {
      const record = this.retries[index];
      if (record?.state === 'queued') yield record;
    }
    for (let index = this.head; index < this.items.length; index += 1) {
      const record = this.items[index];
      if (record?.state === 'queued') yield record;
    }
  }

  /** The next task to dispatch, or undefined when none is queued. */
  takeNext(): TaskRecord | undefined {
    while (this.retriesHead < this.retries.length) {
      const record = this.retries[this.retriesHead]!;
      this.retries[this.retriesHead] = undefined;
      this.retriesHead += 1;
      if (record.state === 'queued') return record;
    }
    if (this.retriesHead > 0) {
      this.retries = [];
      this.retriesHead = 0;
    }
    return this.schedule === undefined ? this.takeOldest() : this.takeScheduled(this.schedule);
  }

  private takeOldest(): TaskRecord | undefined {
    const items = this.items;
    while (this.head < items.length) {
      const record = items[this.head]!;
      items[this.head] = undefined;
      this.head += 1;
      if (record.state === 'queued') {
        this.trim();
        return record;
      }
      this.holes -= 1;
    }
    this.trim();
    return undefined;
  }

  private takeScheduled(schedule: ScheduleHook): TaskRecord | undefined {
    if (this.holes > 0) this.compact();
    const length = this.items.length - this.head;
    if (length === 0) return undefined;
    let index: unknown;
    try {
      index = schedule(this.view);
    } catch (error) {
      this.hookProblem(`The schedule hook threw (${(error as Error)?.message ?? String(error)})`);
      index = 0;
    }
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= length) {
      if (index !== 0) this.hookProblem(`The schedule hook returned ${String(index)}, not an index into the queue of ${length}`);
      index = 0;
    }
    if (index === 0) return this.takeOldest();
    const at = this.head + (index as number);
    this.movedSlots += this.items.length - at - 1;
    const [record] = this.items.splice(at, 1);
    return record;
  }

  private hookProblem(message: string): void {
    if (this.hookProblemReported) return;
    this.hookProblemReported = true;
    this.reportHookProblem(`${message}; the oldest task goes instead, now and whenever the hook fails again (reported once)`);
  }

  /** Drops holes: O(queue), done only when a hook is about to look and something was cancelled. */
  private compact(): void {
    const live: TaskRecord[] = [];
    for (let index = this.head; index < this.items.length; index += 1) {
      const record = this.items[index]!;
      if (record.state === 'queued') live.push(record);
    }
    this.movedSlots += this.items.length - this.head;
    this.items = live;
    this.head = 0;
    this.holes = 0;
  }

  private trim(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
      this.holes = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.movedSlots += this.items.length - this.head;
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** A read-only live view of the queue for the hook: indexes, `length`, iteration and array methods work; writes throw. */
  private createView(): readonly QueuedTask[] {
    const refuse = (): never => {
      throw new TypeError('The queue a schedule hook sees is read-only: return the index of the task to dispatch');
    };
    return new Proxy([] as QueuedTask[], {
      get: (target, property, receiver) => {
        if (property === 'length') return this.items.length - this.head;
        if (typeof property === 'string') {
          const index = toIndex(property);
          if (index !== undefined) return this.items[this.head + index]?.view();
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
      has: (target, property) => {
        if (typeof property === 'string') {
          const index = toIndex(property);
          if (index !== undefined) return index < this.items.length - this.head;
        }
        return Reflect.has(target, property);
      },
      set: refuse,
      defineProperty: refuse,
      deleteProperty: refuse,
      setPrototypeOf: refuse,
      preventExtensions: refuse,
    });
  }

  // ---- room in the queue ----------------------------------------------------------------

  /** Whether a submit must wait for room, given how many tasks are queued. */
  isFull(queued: number): boolean {
    return queued + this.spaceGranted >= this.maxQueued;
  }

  /** Waits for room; the place is then promised to the caller until `takeGrantedSpace`. */
  waitForSpace(): Promise<void> {
    return new Promise((resolve, reject) => this.spaceWaiters.push({ resolve, reject }));
  }

  /** The woken submit queues its task (or gives up): its promised place is used. */
  takeGrantedSpace(): void {
    this.spaceGranted -= 1;
  }

  /** Wakes as many waiting submits as there is room for, oldest first. */
  releaseSpace(queued: number): void {
    const waiters = this.spaceWaiters;
    while (this.spaceWaitersHead < waiters.length && queued + this.spaceGranted < this.maxQueued) {
      const waiter = waiters[this.spaceWaitersHead]!;
      waiters[this.spaceWaitersHead] = undefined;
      this.spaceWaitersHead += 1;
      this.spaceGranted += 1;
      waiter.resolve();
    }
    if (this.spaceWaitersHead === waiters.length) {
      this.spaceWaiters = [];
      this.spaceWaitersHead = 0;
    } else if (this.spaceWaitersHead > 1024 && this.spaceWaitersHead * 2 > waiters.length) {
      this.movedSlots += waiters.length - this.spaceWaitersHead;
      this.spaceWaiters = waiters.slice(this.spaceWaitersHead);
      this.spaceWaitersHead = 0;
    }
  }

  /** The master closed: submits still waiting for room fail. */
  rejectWaiting(): void {
    const waiters = this.spaceWaiters.slice(this.spaceWaitersHead);
    this.spaceWaiters = [];
    this.spaceWaitersHead = 0;
    for (const waiter of waiters) waiter?.reject(new MasterClosedError('The master closed before the task could be queued'));
  }
}

function toIndex(property: string): number | undefined {
  if (property === '' || property.length > 15) return undefined;
  const code = property.charCodeAt(0);
  if (code < 48 || code > 57 || (code === 48 && property.length > 1)) return undefined;
  const index = Number(property);
  return Number.isSafeInteger(index) ? index : undefined;
}
