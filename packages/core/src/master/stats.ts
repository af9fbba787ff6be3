/** Count, total, mean, min and max of a series of durations (milliseconds). */
export interface DurationSummary {
  readonly count: number;
  readonly totalMs: number;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Per task name. */
export interface TaskStats {
  readonly completed: number;
  readonly failed: number;
  readonly wall: DurationSummary;
  readonly cpu: DurationSummary;
}

/** What `master.stats()` returns: a snapshot. */
export interface MasterStats {
  readonly submitted: number;
  /** Waiting in the master's queue. */
  readonly queued: number;
  /** Handed to the transport and not settled. */
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  /** Attempts run again after a retryable failure. */
  readonly retried: number;
  /** Durable transports: tasks of the batch that an earlier master left and this one found at start. */
  readonly recovered: number;
  readonly byTask: Readonly<Record<string, TaskStats>>;
  /** Completed tasks per second since the first submission. */
  readonly tasksPerSecond: number;
  /** Milliseconds since the first submission (0 before it). */
  readonly elapsedMs: number;
}

class DurationAccumulator {
  count = 0;
  total = 0;
  min = Infinity;
  max = 0;

  add(value: number): void {
    this.count += 1;
    this.total += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  summary(): DurationSummary {
    return {
      count: this.count,
      totalMs: this.total,
      meanMs: this.count === 0 ? 0 : this.total / this.count,
      minMs: this.count === 0 ? 0 : this.min,
      maxMs: this.max,
    };
  }
}

class TaskAccumulator {
  completed = 0;
  failed = 0;
  readonly wall = new DurationAccumulator();
  readonly cpu = new DurationAccumulator();
}

/** The counts the task table keeps (see `task-states.ts`). */
export interface StateCountsSnapshot {
  readonly queued: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly recovered: number;
}

/** Submissions, retries and per-task timings; `snapshot()` adds the table's counts and makes a `MasterStats`. */
export class StatsRecorder {
  submitted = 0;
  retried = 0;
  private firstSubmitAt: number | undefined;
  private readonly byTask = new Map<string, TaskAccumulator>();

  recordSubmitted(): void {
    this.submitted += 1;
    this.firstSubmitAt ??= performance.now();
  }

  recordCompleted(taskName: string, wallMs: number, cpuMs: number): void {
    const task = this.task(taskName);
    task.completed += 1;
    task.wall.add(wallMs);
    task.cpu.add(cpuMs);
  }

  recordFailed(taskName: string, timing?: { wallMs: number; cpuMs: number }): void {
    const task = this.task(taskName);
    task.failed += 1;
    if (timing !== undefined) {
      task.wall.add(timing.wallMs);
      task.cpu.add(timing.cpuMs);
    }
  }

  snapshot(counts: StateCountsSnapshot): MasterStats {
    const elapsedMs = this.firstSubmitAt === undefined ? 0 : performance.now() - this.firstSubmitAt;
    const byTask: Record<string, TaskStats> = {};
    for (const [name, task] of this.byTask) {
      byTask[name] = { completed: task.completed, failed: task.failed, wall: task.wall.summary(), cpu: task.cpu.summary() };
    }
    return {
      submitted: this.submitted,
      queued: counts.queued,
      running: counts.running,
      completed: counts.completed,
      failed: counts.failed,
      cancelled: counts.cancelled,
      retried: this.retried,
      recovered: counts.recovered,
      byTask,
      tasksPerSecond: elapsedMs > 0 ? (counts.completed * 1000) / elapsedMs : 0,
      elapsedMs,
    };
  }

  private task(name: string): TaskAccumulator {
    let task = this.byTask.get(name);
    if (task === undefined) {
      task = new TaskAccumulator();
      this.byTask.set(name, task);
    }
    return task;
  }
}
