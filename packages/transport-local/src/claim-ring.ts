/**
 * The claim ring: how a worker and the pool agree on who runs a task the worker holds but has not
 * started, so that an idle worker can take over tasks queued behind a long one (work stealing)
 * without a task ever running twice.
 *
 * Every task sent to a worker has a position: 0, 1, 2... in the order sent to that worker (the
 * sequence numbers in the batches). Its cell, `position % RING_SIZE`, is `AVAILABLE` from when it
 * is sent. Before running it the worker changes the cell to `CLAIMED`; the pool takes it back by
 * changing it to `STOLEN`. Both use a compare-and-exchange, so exactly one of them wins; the
 * worker skips a stolen task without a word (the pool has already removed it from the tasks
 * that worker holds). The worker claims in order, so the pool steals from the end backwards and
 * stops at the first cell the worker has claimed.
 *
 * - Worker threads share the ring (`SharedArrayBuffer`): the pool steals at once, even while
 *   the worker is inside a long synchronous task.
 * - Child processes share no memory: the worker keeps the ring, and the pool asks it to release
 *   a range (`steal` message); it answers (`released`) when it next reads its messages: between
 *   tasks, or while a task awaits.
 *
 * A cell is reused `RING_SIZE` positions later. The pool never has more than `RING_SIZE`
 * positions sent after the last one the worker answered (see `Pool.send`), so a cell is never
 * reused before the worker has passed it.
 */
import type { ClaimRingLocation } from './protocol.js';

/** Cells in a ring: a worker holds at most MAX_TASKS_PER_WORKER (1,024) tasks, so there is room to spare. */
export const RING_SIZE = 4096;
const MASK = RING_SIZE - 1;
const AVAILABLE = 1;
const CLAIMED = 2;
const STOLEN = 3;

/** The pool's side of one worker's ring. */
export interface PoolClaimRing {
  readonly location: ClaimRingLocation;
  /** Whether the pool steals itself (shared memory), or must ask the worker (`steal` message). */
  readonly shared: boolean;
  /** Marks positions [from, from + count) as sent (shared ring only; a worker's own ring does this on receipt). */
  markSent(from: number, count: number): void;
  /**
   * Shared ring: takes back what it can of positions [from, to), from the end; returns the
   * first position taken (`to` if none).
   */
  steal(from: number, to: number): number;
}

export function createPoolClaimRing(kind: 'shared' | 'local'): PoolClaimRing {
  if (kind === 'local') {
    return {
      location: { kind: 'local' },
      shared: false,
      markSent: () => {},
      steal: (_from, to) => to,
    };
  }
  const buffer = new SharedArrayBuffer(RING_SIZE * Int32Array.BYTES_PER_ELEMENT);
  const cells = new Int32Array(buffer);
  return {
    location: { kind: 'shared', buffer },
    shared: true,
    markSent(from, count) {
      // Plain writes: the worker reads these cells only after the message that carries the
      // positions, which orders them.
      fillRing(cells, from, count);
    },
    steal(from, to) {
      return stealRange(cells, from, to);
    },
  };
}

/** The worker's side of its ring. */
export interface WorkerClaimRing {
  /** Positions [from, from + count) have arrived (a worker-held ring marks them available). */
  received(from: number, count: number): void;
  /** Claims a position before running it: false if the pool took it back. */
  claim(position: number): boolean;
  /** Worker-held ring: releases what it can of [from, to) from the end; returns the first position released (`to` if none). */
  release(from: number, to: number): number;
}

export function openWorkerClaimRing(location: ClaimRingLocation): WorkerClaimRing {
  if (location.kind === 'shared') {
    const cells = new Int32Array(location.buffer);
    return {
      received: () => {},
      claim: (position) => Atomics.compareExchange(cells, position & MASK, AVAILABLE, CLAIMED) === AVAILABLE,
      release: (_from, to) => to,
    };
  }
  const cells = new Int32Array(RING_SIZE);
  return {
    received(from, count) {
      fillRing(cells, from, count);
    },
    claim(position) {
      const claimed = cells[position & MASK] === AVAILABLE;
      cells[position & MASK] = CLAIMED;
      return claimed;
    },
    release(from, to) {
      return stealRange(cells, from, to);
    },
  };
}

/** Marks positions [from, from + count) available (count <= RING_SIZE), in at most two runs of cells. */
function fillRing(cells: Int32Array, from: number, count: number): void {
  const start = from & MASK;
  const end = start + count;
  cells.fill(AVAILABLE, start, Math.min(end, RING_SIZE));
  if (end > RING_SIZE) cells.fill(AVAILABLE, 0, end - RING_SIZE);
}

/**
 * Takes back what it can of [from, to), from the end: cells still available become stolen, cells
 * stolen before (a gap left by an earlier steal) are passed over, and the first cell the worker
 * has claimed ends it (the worker claims in order, so everything before it is claimed too).
 */
function stealRange(cells: Int32Array, from: number, to: number): number {
  let first = to;
  for (let position = to - 1; position >= from; position -= 1) {
    const previous = Atomics.compareExchange(cells, position & MASK, AVAILABLE, STOLEN);
    if (previous !== AVAILABLE && previous !== STOLEN) break;
    first = position;
  }
  return first;
}
