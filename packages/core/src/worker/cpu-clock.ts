import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

/**
 * Milliseconds of CPU time of the current thread, as well as Node can tell:
 * - `process.threadCpuUsage` where Node has it (23.9+);
 * - in a main thread (a worker process, the BOINC runtime's task process), the process's CPU time;
 * - in a worker thread of an older Node on Linux, the thread's own scheduler time
 *   (`/proc/thread-self/schedstat`, nanoseconds);
 * - elsewhere, the thread's active event-loop time: it counts a synchronous task's computing,
 *   but also time the thread was ready and not scheduled (`cpuClockKind` says which).
 */
export const { readCpuMilliseconds, cpuClockKind } = chooseCpuClock();

function chooseCpuClock(): { readCpuMilliseconds: () => number; cpuClockKind: 'thread' | 'process' | 'event-loop' } {
  const threadCpuUsage = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  if (typeof threadCpuUsage === 'function') {
    return {
      cpuClockKind: 'thread',
      readCpuMilliseconds: () => {
        const usage = threadCpuUsage.call(process);
        return (usage.user + usage.system) / 1000;
      },
    };
  }
  if (isMainThread) {
    return {
      cpuClockKind: 'process',
      readCpuMilliseconds: () => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) / 1000;
      },
    };
  }
  if (readSchedstat() !== undefined) return { cpuClockKind: 'thread', readCpuMilliseconds: () => readSchedstat() ?? 0 };
  return { cpuClockKind: 'event-loop', readCpuMilliseconds: () => performance.eventLoopUtilization().active };
}

function readSchedstat(): number | undefined {
  try {
    const text = readFileSync('/proc/thread-self/schedstat', 'latin1');
    const nanoseconds = Number(text.slice(0, text.indexOf(' ')));
    return Number.isFinite(nanoseconds) ? nanoseconds / 1e6 : undefined;
  } catch {
    return undefined;
  }
}

/** Below this wall time a task's CPU time is not read from the clock (see `CpuMeter`). */
export const CPU_READ_THRESHOLD_MS = 1;

/**
 * Measures tasks' CPU time without reading the clock (a system call, or a /proc read) around
 * every tiny task. The clock is read at the end of any task that took a millisecond or more of
 * wall time; at its start it is read too, unless it was read less than a millisecond before,
 * in which case the start is the last reading plus the wall time since (the thread was busy
 * running the previous task). So every figure is measured to within a millisecond: a task
 * shorter than that reports its wall time, and a long synchronous task that shared its core
 * or was paused reports the CPU it really had, not its wall time.
 */
export class CpuMeter {
  private lastCpu = 0;
  private lastWall = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: () => number,
    /** Read the clock at both ends of every task (for clocks that are cheap, or tasks that are long). */
    private readonly always = false,
  ) {}

  /** The CPU clock at a task's start (wall time `wallNow`, from `performance.now()`). */
  start(wallNow: number): number {
    if (!this.always && wallNow - this.lastWall < CPU_READ_THRESHOLD_MS) return this.lastCpu + (wallNow - this.lastWall);
    return this.read(wallNow);
  }

  /** The task's CPU time, given its start reading, when it ends after `wallMs` of wall time. */
  end(cpuStart: number, wallMs: number, wallNow: number): number {
    if (!this.always && wallMs < CPU_READ_THRESHOLD_MS) return wallMs;
    return Math.max(0, this.read(wallNow) - cpuStart);
  }

  private read(wallNow: number): number {
    this.lastCpu = this.clock();
    this.lastWall = wallNow;
    return this.lastCpu;
  }
}
