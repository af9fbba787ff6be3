import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runCliJson } from '../../test/run-cli.js';
import type { PrimeFinderReport } from './run-prime-finder.js';
import { isPrime } from './tasks.js';

/** Primes of the form n^2 + 1 (OEIS A002496), the first 30. */
const knownPrimes = [
  2, 5, 17, 37, 101, 197, 257, 401, 577, 677, 1297, 1601, 2917, 3137, 4357, 5477, 7057, 8101, 8837, 12101, 13457, 14401, 15377, 15877, 16901, 17957, 21317,
  22501, 24337, 25601,
];

function isPrimeByTrialDivision(n: number): boolean {
  if (n < 2) return false;
  for (let divisor = 2; divisor * divisor <= n; divisor += 1) if (n % divisor === 0) return false;
  return true;
}

describe('prime-finder', () => {
  it('isPrime agrees with trial division', () => {
    for (let n = 0; n < 20_000; n += 1) expect(isPrime(n), `n = ${n}`).toBe(isPrimeByTrialDivision(n));
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 40 }), (n) => isPrime(n) === isPrimeByTrialDivision(n)), { numRuns: 300 });
  });

  it('isPrime is right about strong pseudoprimes and large primes', () => {
    // Strong pseudoprimes to small bases (they fool Miller-Rabin with too few witnesses).
    for (const composite of [2047, 1_373_653, 25_326_001, 3_215_031_751, 2_152_302_898_747, 3_474_749_660_383, 341_550_071_728_321]) expect(isPrime(composite)).toBe(false);
    for (const prime of [2_147_483_647, 1_000_000_007, 999_999_999_989, 9_007_199_254_740_881]) expect(isPrime(prime)).toBe(true);
  });

  it('the CLI finds the known primes of the form i*i+1 on the local transport', async () => {
    const report = await runCliJson<PrimeFinderReport>(['prime-finder', '-r', '1', '-s', '1000', '-n', '2', '-t', '5']);
    expect(report).toMatchObject({ min: 1, max: 1000, tasks: 5, workers: 2, transport: 'tsmw.local', batch: null });
    expect(report.primes.slice(0, knownPrimes.length)).toEqual(knownPrimes);
    const direct = Array.from({ length: 1000 }, (_, index) => (index + 1) ** 2 + 1).filter(isPrimeByTrialDivision);
    expect(report.primes).toEqual(direct);
    expect(report.count).toBe(112); // OEIS A083844: 112 primes n^2 + 1 with n <= 10^3
  });

  it('counts 841 primes for i up to 10,000, split into any number of tasks', async () => {
    const [one, many] = await Promise.all([
      runCliJson<PrimeFinderReport>(['prime-finder', '-s', '10000', '-n', '1', '-t', '1']),
      runCliJson<PrimeFinderReport>(['prime-finder', '-s', '10000', '-n', '2', '-t', '37']),
    ]);
    expect(one.count).toBe(841); // OEIS A083844
    expect(many.primes).toEqual(one.primes);
    expect(many.tasks).toBe(37);
  });
});
