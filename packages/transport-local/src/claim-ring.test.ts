import { describe, expect, it } from 'vitest';
import { createPoolClaimRing, openWorkerClaimRing, RING_SIZE } from './claim-ring.js';

describe('claim ring, shared with a worker thread', () => {
  const open = () => {
    const pool = createPoolClaimRing('shared');
    const worker = openWorkerClaimRing(pool.location);
    return { pool, worker };
  };

  it('gives each task to exactly one side: the worker claims, or the pool steals', () => {
    const { pool, worker } = open();
    pool.markSent(0, 4);
    expect(worker.claim(0)).toBe(true);
    // The pool takes back what the worker has not claimed, from the end, and stops at the claimed one.
    expect(pool.steal(0, 4)).toBe(1);
    expect(worker.claim(1)).toBe(false);
    expect(worker.claim(2)).toBe(false);
    expect(worker.claim(3)).toBe(false);
  });

  it('steals nothing the worker has claimed', () => {
    const { pool, worker } = open();
    pool.markSent(10, 3);
    for (const position of [10, 11, 12]) expect(worker.claim(position)).toBe(true);
    expect(pool.steal(10, 13)).toBe(13);
  });

  it('steals only the end of a range, leaving the start to the worker', () => {
    const { pool, worker } = open();
    pool.markSent(0, 6);
    expect(pool.steal(4, 6)).toBe(4);
    for (const position of [0, 1, 2, 3]) expect(worker.claim(position)).toBe(true);
    expect(worker.claim(4)).toBe(false);
    expect(worker.claim(5)).toBe(false);
  });

  it('steals past positions taken before (a gap) and stops at the first claimed one', () => {
    const { pool, worker } = open();
    pool.markSent(0, 3);
    expect(pool.steal(2, 3)).toBe(2); // position 2 taken back
    pool.markSent(3, 2); // more sent afterwards: positions 3 and 4
    expect(worker.claim(0)).toBe(true);
    expect(pool.steal(1, 5)).toBe(1);
    expect([1, 2, 3, 4].map((position) => worker.claim(position))).toEqual([false, false, false, false]);
  });

  it('reuses cells a ring later, and numbers past 2^31 keep working', () => {
    const { pool, worker } = open();
    for (const start of [0, RING_SIZE, 2 ** 31 - 2, 2 ** 40]) {
      pool.markSent(start, 4);
      expect(worker.claim(start)).toBe(true);
      expect(pool.steal(start, start + 4)).toBe(start + 1);
      expect(worker.claim(start + 1)).toBe(false);
    }
  });
});

describe('claim ring kept by a child process', () => {
  it('marks tasks on receipt; the worker releases the end of a range when asked', () => {
    const pool = createPoolClaimRing('local');
    expect(pool.shared).toBe(false);
    expect(pool.location).toEqual({ kind: 'local' });
    const worker = openWorkerClaimRing(pool.location);
    worker.received(0, 5);
    expect(worker.claim(0)).toBe(true);
    expect(worker.claim(1)).toBe(true);
    expect(worker.release(1, 5)).toBe(2);
    expect(worker.claim(2)).toBe(false);
    expect(worker.claim(4)).toBe(false);
    worker.received(5, 1);
    expect(worker.claim(5)).toBe(true);
    // Nothing to release once everything is claimed.
    expect(worker.release(5, 6)).toBe(6);
  });

  it('claims nothing it has not received', () => {
    const worker = openWorkerClaimRing({ kind: 'local' });
    expect(worker.claim(0)).toBe(false);
  });
});

describe('claim ring: marking a run of positions that wraps around the ring', () => {
  it('marks every position of the run, on both sides of the wrap, and nothing else', () => {
    const pool = createPoolClaimRing('shared');
    const worker = openWorkerClaimRing(pool.location);
    pool.markSent(RING_SIZE - 2, 4);
    expect([RING_SIZE - 2, RING_SIZE - 1, RING_SIZE, RING_SIZE + 1].map((position) => worker.claim(position))).toEqual([true, true, true, true]);
    expect(worker.claim(RING_SIZE + 2)).toBe(false);
    const local = openWorkerClaimRing({ kind: 'local' });
    local.received(2 * RING_SIZE - 1, 2);
    expect([2 * RING_SIZE - 1, 2 * RING_SIZE, 2 * RING_SIZE + 1].map((position) => local.claim(position))).toEqual([true, true, false]);
  });
});
