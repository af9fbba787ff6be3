import { describe, expect, it } from 'vitest';
import { parseProcStat, readProcessStat } from './process-cpu-time.js';

describe('parseProcStat', () => {
  it('reads the state and utime + stime + cutime + cstime in 100 Hz ticks, counting fields after the last ")"', () => {
    const text = '4242 (node (a) b) T 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 7 3 20 0 11 0 100 1000000 5000 18446744073709551615\n';
    expect(parseProcStat(text)).toEqual({ state: 'T', cpuSeconds: 3.1 });
    expect(parseProcStat('garbage')).toBeUndefined();
    expect(parseProcStat('1 (x) R 1 2')).toBeUndefined();
  });

  it.skipIf(process.platform !== 'linux')('reads this process', () => {
    const stat = readProcessStat(process.pid);
    expect(stat?.state).toMatch(/^[RS]$/);
    expect(stat?.cpuSeconds).toBeGreaterThan(0);
    expect(readProcessStat(2 ** 22 + 12345)).toBeUndefined();
  });
});
