// The task module of the checkpoint-demo example: workers load this file.
import { defineTask } from '@tsmw/core';

export interface PrimeCountInput {
  /** Count the primes p with from <= p < to. */
  readonly from: number;
  readonly to: number;
  /** Numbers sieved between two checkpoints. */
  readonly segment: number;
}

/** What the task saves with `context.checkpoint`: where it got to. */
export interface PrimeCountState {
  readonly next: number;
  readonly count: number;
}

export interface PrimeCountOutput {
  readonly from: number;
  readonly to: number;
  readonly count: number;
  /** Where the task started this run: `from`, or a later number restored from a checkpoint. */
  readonly resumedAt: number;
  /** Checkpoints this run saved. */
  readonly checkpoints: number;
}

/** The largest `to`: the sieve keeps the primes below its square root in memory. */
export const largestLimit = 1e12;

/**
 * Counts the primes in [from, to) with a segmented sieve of Eratosthenes: a long task that saves
 * where it got to after every segment (`context.checkpoint`) and, when it is started again after
 * a stop (a BOINC client quitting, a host rebooting), goes on from there (`context.restore`)
 * instead of from the beginning. Where the transport keeps no checkpoints, both do nothing and
 * the task simply runs through.
 */
export const countPrimes = defineTask('checkpoint-demo', async (input: PrimeCountInput, context): Promise<PrimeCountOutput> => {
  const { from, to, segment } = input;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from || to > largestLimit) {
    throw new RangeError(`from and to must be whole numbers with 0 <= from <= to <= ${largestLimit}, not ${from} and ${to}`);
  }
  if (!Number.isSafeInteger(segment) || segment < 1) throw new RangeError(`segment must be a whole number >= 1, not ${segment}`);
  const restored = await context.restore<PrimeCountState>();
  let next = from;
  let count = 0;
  if (restored !== undefined && Number.isSafeInteger(restored.next) && restored.next >= from && restored.next <= to && Number.isSafeInteger(restored.count)) {
    next = restored.next;
    count = restored.count;
  }
  const resumedAt = next;
  const basePrimes = primesBelow(Math.floor(Math.sqrt(Math.max(0, to - 1))) + 1);
  let checkpoints = 0;
  while (next < to) {
    const end = Math.min(to, next + segment);
    count += countInSegment(next, end, basePrimes);
    next = end;
    context.signal.throwIfAborted();
    await context.checkpoint({ next, count } satisfies PrimeCountState);
    checkpoints += 1;
    context.progress((next - from) / (to - from));
  }
  return { from, to, count, resumedAt, checkpoints };
});

/** The primes below `limit`, by a plain sieve. */
function primesBelow(limit: number): number[] {
  const composite = new Uint8Array(Math.max(0, limit));
  const primes: number[] = [];
  for (let n = 2; n < limit; n += 1) {
    if (composite[n] === 1) continue;
    primes.push(n);
    for (let multiple = n * n; multiple < limit; multiple += n) composite[multiple] = 1;
  }
  return primes;
}

/** How many primes p with start <= p < end, given every prime up to sqrt(end - 1). */
function countInSegment(start: number, end: number, basePrimes: readonly number[]): number {
  const composite = new Uint8Array(end - start);
  for (const prime of basePrimes) {
    if (prime * prime >= end) break;
    let multiple = Math.max(prime * prime, Math.ceil(start / prime) * prime);
    for (; multiple < end; multiple += prime) composite[multiple - start] = 1;
  }
  let count = 0;
  for (let n = Math.max(start, 2); n < end; n += 1) if (composite[n - start] === 0) count += 1;
  return count;
}
