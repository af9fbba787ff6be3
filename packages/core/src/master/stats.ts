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

/** The master's running counts; `snapshot()` makes a `MasterStats`. */
export class StatsRecorder {
  submitted = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  retried = 0;
  private firstSubmitAt: number | undefined;
  private readonly byTask = new Map<string, TaskAccumulator>();

  recordSubmitted(): void {
    this.submitted += 1;
    this.firstSubmitAt ??= performance.now();
  }

  recordCompleted(taskName: string, wallMs: number, cpuMs: number): void {
    this.completed += 1;
    const task = this.task(taskName);
    task.completed += 1;
    task.wall.add(wallMs);
    task.cpu.add(cpuMs);
  }

  recordFailed(taskName: string, timing?: { wallMs: number; cpuMs: number }): void {
    this.failed += 1;
    const task = this.task(taskName);
    task.failed += 1;
    if (timing !== undefined) {
      task.wall.add(timing.wallMs);
      task.cpu.add(timing.cpuMs);
    }
  }

  snapshot(queued: number, running: number): MasterStats {
    const elapsedMs = this.firstSubmitAt === undefined ? 0 : performance.now() - this.firstSubmitAt;
    const byTask: Record<string, TaskStats> = {};
    for (const [name, task] of this.byTask) {
      byTask[name] = { completed: task.completed, failed: task.failed, wall: task.wall.summary(), cpu: task.cpu.summary() };
    }
    return {
      submitted: this.submitted,
      queued,
      running,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
      retried: this.retried,
      byTask,
      tasksPerSecond: elapsedMs > 0 ? (this.completed * 1000) / elapsedMs : 0,
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
