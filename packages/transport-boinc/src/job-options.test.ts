import { describe, expect, it } from 'vitest';
import { checkJobOptions, createWorkArguments, resolveJobOptions } from './job-options.js';

describe('job options', () => {
  it('accept camelCase and BOINC names, and refuse anything else by name', () => {
    expect(checkJobOptions({ rscFpopsEst: 1e12, delay_bound: 3600, priority: -2 }, 'hints')).toEqual({ rscFpopsEst: 1e12, delayBound: 3600, priority: -2 });
    expect(() => checkJobOptions({ rscFpops: 1 }, 'hints of task t')).toThrow(/hints of task t: "rscFpops" is not a BOINC job option/);
    expect(() => checkJobOptions({ minQuorum: 1.5 }, 'h')).toThrow(/minQuorum must be a whole number >= 1, not 1.5/);
    expect(() => checkJobOptions({ rscMemoryBound: -1 }, 'h')).toThrow(/rscMemoryBound must be a positive number/);
    expect(() => checkJobOptions({ rscDiskBound: Number.NaN }, 'h')).toThrow(/rscDiskBound/);
    expect(() => checkJobOptions({ delayBound: '60' }, 'h')).toThrow(/delayBound must be a whole number >= 1, not "60"/);
    expect(() => checkJobOptions({ minQuorum: 2, min_quorum: 2 }, 'h')).toThrow(/given twice/);
    expect(() => checkJobOptions({ targetNresults: 2 ** 31 }, 'h')).toThrow(/above BOINC's limit/);
  });

  it('resolve hints over the transport options, with consistent result bounds', () => {
    const resolved = resolveJobOptions({ rscFpopsEst: 1e12, minQuorum: 2 }, { rscFpopsEst: 5e12 }, undefined, 0);
    expect(resolved).toEqual({ rscFpopsEst: 5e12, minQuorum: 2, targetNresults: 2, maxErrorResults: 3, maxSuccessResults: 4, maxTotalResults: 7 });
    expect(resolveJobOptions({}, { maxErrorResults: 8 }, undefined, 0)).toMatchObject({ maxErrorResults: 8, maxSuccessResults: 3, maxTotalResults: 11 });
    expect(() => resolveJobOptions({}, { minQuorum: 3, targetNresults: 2 }, undefined, 0)).toThrow(/targetNresults \(2\) must be at least minQuorum \(3\)/);
    expect(() => resolveJobOptions({}, { maxErrorResults: 9, maxTotalResults: 4 }, undefined, 0)).toThrow(/maxTotalResults \(4\) must be at least maxErrorResults \(9\)/);
    expect(() => resolveJobOptions({}, { targetNresults: 3, maxSuccessResults: 2 }, undefined, 0)).toThrow(/maxSuccessResults \(2\) must be at least targetNresults \(3\)/);
  });

  it('bound delay_bound by the deadline, in whole minutes above ten minutes, at least a minute', () => {
    const now = 1_000_000;
    expect(resolveJobOptions({}, {}, now + 3_600_500, now).delayBound).toBe(3600);
    expect(resolveJobOptions({}, {}, now + 3_659_000, now).delayBound).toBe(3600);
    expect(resolveJobOptions({}, {}, now + 300_000, now).delayBound).toBe(300);
    expect(resolveJobOptions({}, {}, now - 5_000, now).delayBound).toBe(60);
    expect(resolveJobOptions({ delayBound: 600 }, {}, now + 86_400_000, now).delayBound).toBe(600);
    expect(resolveJobOptions({}, { delayBound: 86_400 }, now + 60_000, now).delayBound).toBe(86_400);
    expect(resolveJobOptions({}, {}, undefined, now).delayBound).toBeUndefined();
  });

  it('become create_work arguments in a fixed order, output size aside', () => {
    expect(createWorkArguments({ maxNbytes: 5, priority: 3, rscFpopsEst: 1e20, minQuorum: 1, delayBound: 60 })).toEqual([
      '--rsc_fpops_est',
      '1e+20',
      '--delay_bound',
      '60',
      '--priority',
      '3',
      '--min_quorum',
      '1',
    ]);
  });
});
