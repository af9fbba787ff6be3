import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';

/**
 * Milliseconds of CPU time of the current thread, as well as Node can tell: `threadCpuUsage`
 * where Node has it (23.9+); else the process's CPU time in a main thread (a worker process);
 * else, in a worker thread of an older Node, the thread's active event-loop time (which counts
 * a synchronous task's computing, but also time the thread was ready and not scheduled).
 */
export const readCpuMilliseconds: () => number = (() => {
  const threadCpuUsage = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  if (typeof threadCpuUsage === 'function') {
    return () => {
      const usage = threadCpuUsage.call(process);
      return (usage.user + usage.system) / 1000;
    };
  }
  if (isMainThread) {
    return () => {
      const usage = process.cpuUsage();
      return (usage.user + usage.system) / 1000;
    };
  }
  return () => performance.eventLoopUtilization().active;
})();
