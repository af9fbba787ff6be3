import { TaskIndex } from './task-index.js';
import type { Settlement, TaskOwner, TaskRecord } from './task-record.js';
import { isSettledState, nextTaskState, TaskStateCounts, type TaskEvent } from './task-states.js';

/**
 * Every open task of a master and every count about them. State changes go through
 * `transition` / `settle` (the table of `task-states.ts`), so the counts can never disagree
 * with the records. It also keeps what `results()` hands out: settled tasks nobody claimed,
 * in the order they settled.
 *
 * Its index by id holds the open tasks a transport may name (dispatched at least once, or
 * recovered) and those with a key (a submission may attach to them): a task queued without a
 * key is found through the queue (`queued`), so 100,000 tasks submitted at once do not make a
 * 100,000-entry hash table, and only the tasks in flight are in it.
 */
export class TaskTable {
  readonly counts = new TaskStateCounts();
  private readonly records: TaskIndex;
  /** Open tasks that `results()` (without arguments) waits for: owned by `submit` or recovered. */
  private publicOpen = 0;
  /** Settled tasks owned by `submit` or recovered and not claimed, oldest first (from `collectHead`). */
  private collectable: Array<TaskRecord | undefined> = [];
  private collectHead = 0;
  private collectWaiters: Array<() => void> = [];
  /** Array slots copied when the queue of collectable tasks is compacted (tests check it stays linear). */
  movedSlots = 0;
  /** Recovered tasks that no submission has attached to and whose outcome nobody took, open or settled. */
  private readonly unattachedTasks = new Map<string, TaskRecord>();
  /** Open tasks not owned by `recovered`: what a graceful close waits for. */
  private ownedOpen = 0;
  private ownedIdleWaiters: Array<() => void> = [];

  /**
   * `idPrefix`: what the ids the master makes begin with (see `TaskIndex`); `queued`: the queued
   * tasks in any order (the submission queue's), for `openRecords`.
   */
  constructor(
    idPrefix = '',
    private readonly queued: () => Iterable<TaskRecord> = () => [],
  ) {
    this.records = new TaskIndex(idPrefix);
  }

  /** Open tasks by id: any that was dispatched, recovered or has a key (see the class's comment). */
  get(taskId: string): TaskRecord | undefined {
    return this.records.get(taskId);
  }

  /** The open records, for a close or a failed stream (a copy: settling them changes the table). */
  openRecords(): TaskRecord[] {
    const open = this.records.values();
    for (const record of this.queued()) if (!record.indexed && record.settlement === undefined) open.push(record);
    return open;
  }

  private index(record: TaskRecord): void {
    record.indexed = true;
    this.records.add(record);
  }

  /** Adds a task in its first state: `queued`, or `dispatched` when recovered from the transport. */
  add(record: TaskRecord, state: 'queued' | 'dispatched'): void {
    record.state = state;
    if (state !== 'queued' || record.key !== undefined) this.index(record);
    this.counts.enter(state);
    if (record.owner !== 'map') this.publicOpen += 1;
    if (record.owner === 'recovered') this.unattachedTasks.set(record.id, record);
    else this.ownedOpen += 1;
  }

  /** The recovered tasks nobody attached to or took yet. */
  unattached(): TaskRecord[] {
    return [...this.unattachedTasks.values()];
  }

  /** A recovered task (open or settled) by id, if nobody attached to it or took it yet. */
  unattachedTask(taskId: string): TaskRecord | undefined {
    return this.unattachedTasks.get(taskId);
  }

  /** Its outcome was taken (through `results()` or its handle): no longer waiting for a submission to attach. */
  forgetUnattached(record: TaskRecord): void {
    if (record.owner === 'recovered') this.unattachedTasks.delete(record.id);
  }

  /** Resolves when no task owned by this master (submitted, mapped, attached) is open. */
  whenOwnedIdle(): Promise<void> {
    if (this.ownedOpen === 0) return Promise.resolve();
    return new Promise((resolve) => this.ownedIdleWaiters.push(resolve));
  }

  /** Moves an open task on an event that keeps it open (`dispatch`, `start`, `retry`); false if it does not apply. */
  transition(record: TaskRecord, event: TaskEvent): boolean {
    const next = nextTaskState(record.state, event);
    if (next === undefined || isSettledState(next)) return false;
    this.counts.move(record.state, next);
    record.state = next;
    if (!record.indexed) this.index(record);
    return true;
  }

  /** Settles a task on an event that ends it; false (and nothing changes) if it does not apply. */
  settle(record: TaskRecord, event: TaskEvent, settlement: Settlement): boolean {
    const next = nextTaskState(record.state, event);
    if (next === undefined || !isSettledState(next)) return false;
    this.counts.move(record.state, next);
    record.state = next;
    if (record.indexed) {
      record.indexed = false;
      this.records.remove(record);
    }
    const isPublic = record.owner !== 'map';
    if (record.owner !== 'recovered') {
      this.ownedOpen -= 1;
      if (this.ownedOpen === 0) this.wakeOwnedIdle();
    }
    if (isPublic) {
      this.publicOpen -= 1;
      if (!record.claimed) {
        record.awaitingCollection = true;
        this.collectable.push(record);
      }
    }
    record.settle(settlement);
    if (isPublic) this.wakeCollectors();
    return true;
  }

  /** A submission takes over a task (attach by key): `map` tasks leave what `results()` waits for. */
  changeOwner(record: TaskRecord, owner: TaskOwner): void {
    const wasPublic = record.owner !== 'map';
    const isPublic = owner !== 'map';
    const wasRecovered = record.owner === 'recovered';
    record.owner = owner;
    if (!wasRecovered || owner === 'recovered') return;
    this.unattachedTasks.delete(record.id);
    if (record.settlement !== undefined) return;
    if (wasPublic !== isPublic) this.publicOpen += isPublic ? 1 : -1;
    this.ownedOpen += 1;
  }

  private wakeOwnedIdle(): void {
    const waiters = this.ownedIdleWaiters;
    this.ownedIdleWaiters = [];
    for (const waiter of waiters) waiter();
  }

  /**
   * The next settled, unclaimed public task (claimed from here on), or `undefined`: with
   * `done` true when no public task is open either (nothing more will come).
   */
  takeCollectable(): { record: TaskRecord | undefined; done: boolean } {
    const list = this.collectable;
    while (this.collectHead < list.length) {
      const record = list[this.collectHead]!;
      list[this.collectHead] = undefined;
      this.collectHead += 1;
      record.awaitingCollection = false;
      if (record.claimed) continue; // claimed since (its result read, or attached by map)
      this.compactCollectable();
      return { record, done: false };
    }
    this.compactCollectable();
    return { record: undefined, done: this.publicOpen === 0 };
  }

  /** Waits until a public task settles (or the wait is cut short by `wakeCollectors`). */
  waitForCollectable(): Promise<void> {
    return new Promise((resolve) => this.collectWaiters.push(resolve));
  }

  wakeCollectors(): void {
    if (this.collectWaiters.length === 0) return;
    const waiters = this.collectWaiters;
    this.collectWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private compactCollectable(): void {
    if (this.collectHead === this.collectable.length) {
      this.collectable = [];
      this.collectHead = 0;
    } else if (this.collectHead > 1024 && this.collectHead * 2 > this.collectable.length) {
      this.movedSlots += this.collectable.length - this.collectHead;
      this.collectable = this.collectable.slice(this.collectHead);
      this.collectHead = 0;
    }
  }
}
