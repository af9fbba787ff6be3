// The task module of the prime-finder example (PyMW's prime_finder.py): workers load this file.
import { defineTask } from '@tsmw/core';

export interface PrimeRange {
  /** The first i of the range. */
  readonly from: number;
  /** The last i of the range (inclusive). */
  readonly to: number;
}

export interface PrimeRangeResult extends PrimeRange {
  /** The primes among i*i + 1 for i in the range, in increasing order. */
  readonly primes: number[];
}

/** The largest i for which i*i + 1 is still a safe integer. */
export const largestI = 94_906_265;

/**
 * Finds the primes of the form i*i + 1 for i from `from` to `to` (PyMW's prime_range_check),
 * with a deterministic Miller-Rabin test. Reports progress and stops early when cancelled.
 */
export const findPrimes = defineTask('prime-finder', (input: PrimeRange, context): PrimeRangeResult => {
  const { from, to } = input;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from || to > largestI) {
    throw new RangeError(`from and to must be whole numbers with 0 <= from <= to <= ${largestI}, not ${from} and ${to}`);
  }
  const primes: number[] = [];
  const step = 10_000;
  for (let i = from; i <= to; i += 1) {
    const candidate = i * i + 1;
    if (isPrime(candidate)) primes.push(candidate);
    if ((i - from) % step === step - 1) {
      context.progress((i - from + 1) / (to - from + 1));
      context.signal.throwIfAborted();
    }
  }
  return { from, to, primes };
});

const smallPrimes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];

/**
 * Whether n (a safe integer) is prime: trial division by the primes up to 37, then Miller-Rabin
 * with those primes as witnesses, which is exact for every n below 3.3 * 10^24.
 */
export function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (const prime of smallPrimes) {
    if (n === prime) return true;
    if (n % prime === 0) return false;
  }
  if (n < 37 * 37) return true;
  const big = BigInt(n);
  const minusOne = big - 1n;
  // n - 1 = d * 2^s with d odd
  let d = minusOne;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s += 1;
  }
  witnesses: for (const witness of smallPrimes) {
    let x = modularPower(BigInt(witness), d, big);
    if (x === 1n || x === minusOne) continue;
    for (let round = 1; round < s; round += 1) {
      x = (x * x) % big;
      if (x === minusOne) continue witnesses;
    }
    return false;
  }
  return true;
}

function modularPower(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let power = base % modulus;
  for (let rest = exponent; rest > 0n; rest >>= 1n) {
    if ((rest & 1n) === 1n) result = (result * power) % modulus;
    power = (power * power) % modulus;
  }
  return result;
}
