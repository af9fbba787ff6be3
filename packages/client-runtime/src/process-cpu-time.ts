import { readFileSync } from 'node:fs';

/** Linux reports process times in USER_HZ ticks, 100 per second on every mainstream architecture. */
const linuxTicksPerSecond = 100;

/**
 * Parses the text of `/proc/<pid>/stat`: the state letter (`R`, `S`, `T` stopped, `Z`...) and CPU
 * seconds (utime + stime, plus the waited-for children's cutime + cstime). The command name may
 * contain spaces and parentheses, so fields are counted from the last `)`.
 */
export function parseProcStat(text: string): { state: string; cpuSeconds: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close === -1) return undefined;
  const fields = text.slice(close + 2).trim().split(/\s+/);
  // fields[0] is field 3 of proc(5) (state); utime, stime, cutime, cstime are fields 14 to 17.
  const ticks = [11, 12, 13, 14].map((index) => Number(fields[index]));
  if (fields[0] === undefined || ticks.some((value) => !Number.isFinite(value))) return undefined;
  return { state: fields[0], cpuSeconds: ticks.reduce((sum, value) => sum + value, 0) / linuxTicksPerSecond };
}

/** The state and CPU seconds of a process from `/proc` (Linux), or undefined where that cannot be read. */
export function readProcessStat(pid: number): { state: string; cpuSeconds: number } | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}
