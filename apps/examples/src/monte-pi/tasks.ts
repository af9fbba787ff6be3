// The task module of the monte-pi example (PyMW's monte_pi.py): workers load this file.
import { defineTask } from '@tsmw/core';

export interface MontePiInput {
  /** How many darts this task throws. */
  readonly darts: number;
  /** The seed of this task's random numbers, so that a run can be repeated exactly. */
  readonly seed: number;
}

export interface MontePiOutput {
  readonly darts: number;
  /** Darts that fell inside the quarter circle. */
  readonly hits: number;
}

/**
 * Throws `darts` random darts at the unit square and counts those inside the quarter circle:
 * hits / darts tends to pi / 4. Reports progress every million darts and stops early when
 * cancelled.
 */
export const throwDarts = defineTask('monte-pi', (input: MontePiInput, context): MontePiOutput => {
  if (!Number.isSafeInteger(input.darts) || input.darts < 0) throw new RangeError(`darts must be a whole number >= 0, not ${input.darts}`);
  const random = createXoshiro128Plus(input.seed);
  const chunk = 1_000_000;
  let hits = 0;
  for (let thrown = 0; thrown < input.darts; ) {
    const end = Math.min(input.darts, thrown + chunk);
    for (; thrown < end; thrown += 1) {
      const x = random();
      const y = random();
      if (x * x + y * y <= 1) hits += 1;
    }
    context.progress(thrown / input.darts);
    context.signal.throwIfAborted();
  }
  return { darts: input.darts, hits };
});

/** xoshiro128+ (four 32-bit state words): fast, seedable, good enough for darts. Returns numbers in [0, 1). */
function createXoshiro128Plus(seed: number): () => number {
  let s0 = (seed ^ 0x9e3779b9) >>> 0 || 1;
  let s1 = Math.imul(seed ^ 0x85ebca6b, 0xc2b2ae35) >>> 0 || 2;
  let s2 = Math.imul(seed ^ 0x27d4eb2f, 0x165667b1) >>> 0 || 3;
  let s3 = (seed * 2_654_435_761) >>> 0 || 4;
  return () => {
    const result = (s0 + s3) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 11) | (s3 >>> 21);
    return result / 4_294_967_296;
  };
}
